// The compiled binary's event delivery: refresh raises refresh-failed once per distinct failure
// and delivers it; the timer's `refresh --if-pending` delivers what is queued without scanning
// the bays (blkid, which a uuid bay's scan runs, is a recording fake); setup's example with
// Debian's mail really mails root. bconsole is a fake (the real Director is in test/e2e/bacula).
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { BASE_ENV, ensureBinary } from "../helpers/run.ts";
import { makeTempDir } from "../helpers/tmp.ts";
import { writeNotifier } from "../events/fixtures.ts";

const dir = makeTempDir("notify-e2e");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = Bun.spawnSync([ensureBinary(), ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: BASE_ENV,
  });
  return {
    code: r.exitCode,
    out: r.stdout.toString(),
    err: r.stderr.toString(),
  };
}

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function changer(name: string, notify: string[], extra = "") {
  const root = join(dir, name);
  mkdirSync(join(root, "bay"), { recursive: true });
  const bconsole = script(
    join(root, "bconsole"),
    `cat > /dev/null\n[ -e ${root}/director-down ] && { echo "Failed to connect to Director"; exit 1; }\nexit 0`,
  );
  const blkid = script(
    join(root, "blkid"),
    `echo "$@" >> ${root}/blkid-calls\nexit 2`,
  );
  const conf = join(root, `${name}.toml`);
  writeFileSync(
    conf,
    `name = "${name}"\nwork_dir = "${root}/work"\nlog_file = "${root}/log"\nuser = "root"\ngroup = "root"\n` +
      `[[magazine]]\npath = "${root}/bay"\nallow_unmounted = true\n${extra}` +
      `[bacula]\nbconsole = "${bconsole}"\ntimeout = 20\n[tools]\nblkid = "${blkid}"\n` +
      `[notify]\ncommand = ${JSON.stringify(notify)}\ntimeout = 20\n`,
  );
  return { root, conf };
}

test("a failing refresh queues refresh-failed once (not again on the timer's retries) and delivers it; --if-pending delivers without scanning the bays", () => {
  const notifier = writeNotifier(join(dir, "n1"));
  const { root, conf } = changer(
    "nt1",
    [notifier.path, notifier.record, notifier.gate],
    `[[magazine]]\nuuid = "0b7f0000-1111-2222-3333-444455556666"\n`,
  );
  expect(
    run(["magazine", "init", "-c", conf, "1", "--volumes", "1"]).code,
  ).toBe(0);
  writeFileSync(join(root, "director-down"), "");
  const failed = run(["refresh", "-c", conf]);
  expect(failed.code).toBe(8);
  const lines = () =>
    existsSync(notifier.record)
      ? readFileSync(notifier.record, "utf8").trimEnd().split("\n")
      : [];
  expect(lines()).toHaveLength(1);
  expect(lines()[0]).toMatch(
    /^\d{15}-\d+-\d+ refresh-failed nt1: refresh failed: bconsole /,
  );
  // The timer's retry fails the same way: nothing new is told.
  rmSync(join(root, "blkid-calls"), { force: true });
  expect(run(["refresh", "--if-pending", "-c", conf]).code).toBe(8);
  expect(lines()).toHaveLength(1);
  // After a success a failure is news again; with the notifier down it stays queued.
  rmSync(join(root, "director-down"));
  expect(run(["refresh", "-c", conf]).code).toBe(0);
  writeFileSync(join(notifier.gate, "fail"), "");
  writeFileSync(join(root, "director-down"), "");
  expect(run(["refresh", "--force", "-c", conf]).code).toBe(8);
  rmSync(join(root, "director-down"));
  const queued = run(["refresh", "-c", conf]);
  expect(queued.code).toBe(0);
  expect(queued.out).toMatch(
    /\nWARN: 1 event\(s\) still queued \(the notifier failed: .* exited with status 3: mail: no route to host\); the next refresh retries\n$/,
  );
  expect(lines()).toHaveLength(1);
  // The timer's --if-pending, with no Bacula update pending, delivers it and scans no bay.
  rmSync(join(notifier.gate, "fail"));
  rmSync(join(root, "blkid-calls"), { force: true });
  const timer = run(["refresh", "--if-pending", "-c", conf]);
  expect(timer).toMatchObject({ code: 0, err: "" });
  expect(timer.out).toBe(
    "nothing to do: no Bacula update is pending\nnotified: 1 event(s) delivered to [notify]\n",
  );
  expect(existsSync(join(root, "blkid-calls"))).toBe(false);
  expect(lines().map((l) => l.split(" ")[1])).toEqual([
    "refresh-failed",
    "refresh-failed",
  ]);
});

describe.skipIf(
  skipUnless(
    ["root", "tool:mail", "tool:sendmail"],
    "notify: setup's example with Debian's mail",
  ),
)("notify: setup's example with Debian's mail", () => {
  test("the [notify] line setup prints mails root the event's summary as subject", async () => {
    const { root, conf } = changer("nt2", []);
    const setup = run(["setup", "-c", conf]);
    const example = /\[notify\] command = (\[[^\]]*\])/.exec(setup.out)?.[1];
    expect(example).toBeDefined();
    const tag = `nt2-${process.pid}-${Date.now()}`;
    const argv = (JSON.parse(example as string) as string[]).map((a) =>
      a.replace("magchanger nt2", `magchanger ${tag}`),
    );
    const text = readFileSync(conf, "utf8").replace(
      /command = \[\]/,
      `command = ${JSON.stringify(argv)}`,
    );
    writeFileSync(conf, text);
    writeFileSync(join(root, "director-down"), "");
    expect(run(["refresh", "-c", conf]).code).toBe(8);
    const subject = `Subject: magchanger ${tag}: nt2: refresh failed: bconsole`;
    const mailed = () =>
      readdirSync("/var/mail").some((f) => {
        try {
          return readFileSync(join("/var/mail", f), "utf8").includes(subject);
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 300 && !mailed(); i++) await Bun.sleep(100);
    expect(mailed()).toBe(true);
  }, 60_000);
});
