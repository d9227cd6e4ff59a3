// What in bconsole's output counts as a failed command (Bacula 9.6.7 wording).
import { expect, test } from "bun:test";
import { runBconsole } from "../../src/bacula/bconsole.ts";
import { validateConfig } from "../../src/config/load.ts";
import type { Exec } from "../../src/system/exec.ts";

const config = validateConfig(
  {
    name: "c",
    work_dir: "/var/lib/magchanger/c",
    magazine: [{ path: "/mnt/c/magazine" }],
  },
  "/etc/magchanger/c.toml",
);
const answering =
  (stdout: string): Exec =>
  async () => ({
    exitCode: 0,
    signal: null,
    stdout,
    stderr: "",
    timedOut: false,
    ms: 1,
  });

test("setting a volume's status to Error succeeds: 9.6.7's `New Volume status is: Error` is its answer, not a failure", async () => {
  const out = `Connecting to Director 127.0.0.1:9101\n1000 OK: 103 mc-dir Version: 9.6.7 (10 December 2020)\nEnter a period to cancel a command.\nupdate volume="c_0001_0001" volstatus=Error\nNew Volume status is: Error\nquit\n`;
  expect(
    (
      await runBconsole(
        config,
        ['update volume="c_0001_0001" volstatus=Error'],
        answering(out),
      )
    ).output,
  ).toBe(out);
});

test("a failure line still fails the call, naming the line", async () => {
  await expect(
    runBconsole(
      config,
      ['list volumes pool="Offsite"'],
      answering(
        'Could not find Pool "Offsite": ERR=Pool record not found in Catalog.\n',
      ),
    ),
  ).rejects.toThrow(
    'bconsole reported a failure: Could not find Pool "Offsite": ERR=Pool record not found in Catalog.;',
  );
  await expect(
    runBconsole(
      config,
      ["status dir"],
      answering("bconsole: ERROR TERMINATION at ua_cmds.c:1\n"),
    ),
  ).rejects.toThrow("bconsole reported a failure: bconsole: ERROR TERMINATION");
});
