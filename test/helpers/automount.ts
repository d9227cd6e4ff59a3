// Shared by the tests that run a real automount (Debian's autofs): what is missing to run one,
// what is mounted where (from mountinfo: a stat would reset autofs' expiry timer), and waiting.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { missing } from "./capabilities.ts";
import { tool } from "./run.ts";

export function automountMissing(): string | undefined {
  return missing("automount");
}

/**
 * The environment automount 5.1 gives a program map besides its own (it runs the map as root):
 * the identity of the process whose access triggered the lookup, here root's.
 */
export function automountMapEnv(): Record<string, string> {
  return {
    AUTOFS_USER: "root",
    AUTOFS_UID: "0",
    AUTOFS_GROUP: "root",
    AUTOFS_GID: "0",
    AUTOFS_HOME: "/root",
    AUTOFS_HOST: hostname(),
    AUTOFS_SHOST: hostname().split(".")[0] ?? "",
  };
}

/** What is mounted exactly at dir, if anything. */
export function mountAt(
  dir: string,
): { fsType: string; source: string; options: string } | undefined {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    const fields = left?.split(" ") ?? [];
    if (fields[4] !== dir || !right) continue;
    const [fsType = "", source = ""] = right.split(" ");
    return { fsType, source, options: fields[5] ?? "" };
  }
  return undefined;
}

export async function until(
  what: string,
  check: () => boolean,
  seconds: number,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await Bun.sleep(100);
  }
}

export interface Automount {
  /** SIGTERM (SIGKILL after 10 s), then lazily unmounts what is left at dirs, innermost first. */
  stop(dirs: string[]): Promise<void>;
}

/**
 * `setsid automount -f -v MASTER` (setsid: accesses from automount's own process group never
 * trigger mounts), once its autofs is mounted at mountPoint. Logs go to LOGDIR/automount.*.
 */
export async function startAutomount(
  master: string,
  mountPoint: string,
  logDir: string,
  env: Record<string, string>,
): Promise<Automount> {
  const child = Bun.spawn(["setsid", "automount", "-f", "-v", master], {
    env,
    stdin: "ignore",
    stdout: Bun.file(join(logDir, "automount.log")),
    stderr: Bun.file(join(logDir, "automount.err")),
  });
  const stop = async (dirs: string[]) => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      const stopped = await Promise.race([
        child.exited.then(() => true),
        Bun.sleep(10_000).then(() => false),
      ]);
      if (!stopped) {
        child.kill("SIGKILL");
        await child.exited;
      }
    }
    for (const dir of dirs)
      if (mountAt(dir)) tool(["umount", "-l", "--", dir], { okCodes: [0, 32] });
  };
  try {
    await until(
      "automount to mount its autofs",
      () => mountAt(mountPoint)?.fsType === "autofs",
      10,
    );
  } catch (error) {
    await stop([mountPoint]);
    throw error;
  }
  return { stop };
}
