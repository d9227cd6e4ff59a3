// Started detached beside each Bacula harness with a pipe from the test process on stdin. EOF
// on stdin means the test process is gone, however it ended (bun test emits no 'exit' event;
// SIGKILL runs nothing): then kill the harness's daemons and remove its dir. A harness that
// stops normally kills this process first.
import { reapRoot } from "./setup.ts";

const root = process.argv[2];
if (!root) throw new Error("usage: watchdog.ts HARNESS_ROOT");
for await (const _ of Bun.stdin.stream()) {
  // nothing is ever written; wait for EOF
}
reapRoot(root);
