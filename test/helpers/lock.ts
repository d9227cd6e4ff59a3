// Holds a changer's lock from another process, as a second magchanger (or a hung one) would:
// util-linux `flock --no-fork FILE sleep`, so killing that one process frees the lock.
import { tool } from "./run.ts";

export interface LockHolder {
  pid: number;
  /** SIGKILL: the kernel releases the flock with the process. */
  kill(): void;
}

/** True when nobody holds an exclusive flock on path. */
export function lockIsFree(path: string): boolean {
  const result = Bun.spawnSync(
    ["flock", "--nonblock", "--conflict-exit-code", "99", "--", path, "true"],
    { stdout: "ignore", stderr: "ignore" },
  );
  if (result.exitCode !== 0 && result.exitCode !== 99)
    throw new Error(`flock ${path} exited ${result.exitCode}`);
  return result.exitCode === 0;
}

export async function holdLock(path: string): Promise<LockHolder> {
  tool(["flock", "--version"]);
  const child = Bun.spawn(["flock", "--no-fork", "--", path, "sleep", "600"], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  const deadline = performance.now() + 10_000;
  while (lockIsFree(path)) {
    if (child.exitCode !== null)
      throw new Error(`flock ${path} exited ${child.exitCode}`);
    if (performance.now() > deadline)
      throw new Error(`flock did not take ${path} within 10 s`);
    await Bun.sleep(5);
  }
  return {
    pid: child.pid,
    kill: () => child.kill("SIGKILL"),
  };
}
