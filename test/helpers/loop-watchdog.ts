export {};

// Started detached by loop.ts with a pipe from the test process on stdin, over which the test
// registers what it mounted and attached ("+mount DIR", "-mount DIR", "+loop DEV", "-loop DEV").
// EOF means the test process is gone however it ended (bun test emits no 'exit'; SIGKILL runs
// nothing): then unmount and detach whatever is still registered, newest first.
const mounts: string[] = [];
const loops: string[] = [];
let pending = "";

function apply(line: string): void {
  const [op, ...rest] = line.split(" ");
  const value = rest.join(" ");
  const list = op?.endsWith("mount") ? mounts : loops;
  if (op?.startsWith("+")) {
    list.push(value);
  } else if (op?.startsWith("-")) {
    const at = list.lastIndexOf(value);
    if (at >= 0) list.splice(at, 1);
  }
}

const decoder = new TextDecoder();
for await (const chunk of Bun.stdin.stream()) {
  pending += decoder.decode(chunk);
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) if (line) apply(line);
}

const run = (argv: string[]) =>
  Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore", timeout: 30_000 })
    .exitCode;
for (const dir of mounts.reverse())
  if (run(["umount", "--", dir]) !== 0) run(["umount", "-l", "--", dir]);
for (const device of loops.reverse()) run(["losetup", "-d", device]);
