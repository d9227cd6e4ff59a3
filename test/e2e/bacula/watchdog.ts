// Started detached beside each Scratch (scratch.ts) with a pipe from the test process on stdin.
// EOF on stdin means the test process is gone, however it ended (bun test emits no 'exit' event;
// SIGKILL runs nothing): then undo what the Scratch recorded (daemons, mounts, loop devices)
// and remove its dir. A Scratch cleaned up normally kills this process first.
import { reapRoot } from "./scratch.ts";

const root = process.argv[2];
if (!root) throw new Error("usage: watchdog.ts SCRATCH_ROOT");
for await (const _ of Bun.stdin.stream()) {
  // nothing is ever written; wait for EOF
}
reapRoot(root);
