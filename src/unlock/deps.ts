// What unlock's steps are handed: the OS seams tests replace (a file of its own, so the steps
// that share it import no cycle).
import type { Log } from "../log.ts";
import type { Exec } from "../system/exec.ts";

export interface UnlockDeps {
  exec: Exec;
  log: Log;
  env: Record<string, string | undefined>;
  /** The mount table to search; /proc/self/mountinfo unless a test says otherwise. */
  mountinfoPath?: string;
  sysRoot?: string;
}
