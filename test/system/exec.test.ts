// exec() keeps at most MAX_TOOL_STDOUT of a tool's stdout: eject runs bconsole as root, and
// bconsole relays what the storage daemon (bacula's, so the run-as user's to compromise) says.
// A tool that prints more is stopped and the call fails naming it; one that prints up to the
// cap is read whole. Real tools (head of /dev/zero), no fake.
import { expect, test } from "bun:test";
import { exec, MAX_TOOL_STDOUT } from "../../src/system/exec.ts";

const head = (bytes: number) => [
  "/usr/bin/head",
  "-c",
  String(bytes),
  "/dev/zero",
];

test("a tool that prints more than MAX_TOOL_STDOUT fails, naming the tool and the cap", async () => {
  const error = await exec(head(MAX_TOOL_STDOUT + 1), {
    timeoutMs: 60_000,
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.message).toBe(
    `/usr/bin/head printed more than ${MAX_TOOL_STDOUT / 1024 / 1024} MiB on stdout; it was stopped and its output not used`,
  );
});

test("an endless one is stopped at the cap, not at its timeout", async () => {
  const error = await exec(["/usr/bin/cat", "/dev/zero"], {
    timeoutMs: 600_000,
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.message).toStartWith("/usr/bin/cat printed more than ");
});

test("output up to the cap is read whole", async () => {
  const result = await exec(head(MAX_TOOL_STDOUT), { timeoutMs: 60_000 });
  expect(result.exitCode).toBe(0);
  expect(result.stdout.length).toBe(MAX_TOOL_STDOUT);
});
