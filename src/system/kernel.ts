// What the running kernel and host offer the chain (autofs, device-mapper, a udev daemon), read
// from /proc and the module tree; doctor receives it as a parameter so tests fake every input.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";

export interface HostKernel {
  /** `uname -r`. */
  release: string;
  /** /proc/filesystems ("" when unreadable). */
  filesystems: string;
  /** /proc/misc ("" when unreadable): the drivers with a misc device, device-mapper among them. */
  misc: string;
  /** The kernel modules named (without .ko*) found in /lib/modules/RELEASE, e.g. autofs4. */
  modules(names: string[]): string[];
  /** The path of udevadm, undefined when it is not installed. */
  udevadm: string | undefined;
  /** Whether a udev daemon runs: its control socket exists or a systemd-udevd process runs. */
  udevRunning: boolean;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Module files below dir whose names (before .ko) are among names; bounded by the tree. */
function findModules(dir: string, names: Set<string>): string[] {
  const found: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return found;
  }
  for (const entry of entries) {
    const base = entry.slice(entry.lastIndexOf("/") + 1);
    const dot = base.indexOf(".ko");
    if (dot > 0 && names.has(base.slice(0, dot)))
      found.push(base.slice(0, dot));
  }
  return found;
}

function udevdProcessRuns(): boolean {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return false;
  }
  return pids.some((pid) => {
    const comm = readOr(join("/proc", pid, "comm")).trim();
    return comm === "systemd-udevd" || comm === "udevd";
  });
}

export function realHostKernel(): HostKernel {
  const rel = release();
  const udevadm = ["/usr/bin/udevadm", "/bin/udevadm", "/sbin/udevadm"].find(
    (p) => existsSync(p),
  );
  return {
    release: rel,
    filesystems: readOr("/proc/filesystems"),
    misc: readOr("/proc/misc"),
    modules: (names) =>
      findModules(join("/lib/modules", rel, "kernel"), new Set(names)),
    udevadm,
    udevRunning: existsSync("/run/udev/control") || udevdProcessRuns(),
  };
}
