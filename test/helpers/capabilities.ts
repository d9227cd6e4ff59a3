// The one probe of what this machine can test: root, loop devices, ext4, autofs and
// device-mapper in the running kernel, the Debian tools and accounts the tests use. CI runs on
// the submitting developer's own machine and kernels differ (some have no autofs), so a suite
// that needs something missing skips with one line naming it, and .ci/run lists the skips by
// reason (MAGCHANGER_SKIP_LOG). No test probes the host on its own: it asks here.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type HostKernel, realHostKernel } from "../../src/system/kernel.ts";
import { untraversableParent } from "./run.ts";
import { testRoot } from "./tmp.ts";

/** Where Debian's tools are; PATH is not trusted to have the sbin dirs. */
const TOOL_DIRS = [
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
  "/bin",
];

/** The Debian package that ships each tool the tests run, for the skip reason. */
const PACKAGES: Record<string, string> = {
  automount: "autofs",
  setsid: "util-linux",
  losetup: "util-linux",
  mount: "mount",
  umount: "mount",
  "mkfs.ext4": "e2fsprogs",
  tune2fs: "e2fsprogs",
  cryptsetup: "cryptsetup-bin",
  setpriv: "util-linux",
  flock: "util-linux",
  "bacula-dir": "bacula-director",
  "bacula-sd": "bacula-sd",
  "bacula-fd": "bacula-fd",
  bconsole: "bacula-console",
  sqlite3: "sqlite3",
  "systemd-analyze": "systemd",
  useradd: "passwd",
  unshare: "util-linux",
  nsenter: "util-linux",
  ip: "iproute2",
  "apt-cache": "apt",
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-img": "qemu-utils",
  mmdebstrap: "mmdebstrap",
  mke2fs: "e2fsprogs",
  promtool: "prometheus",
  man: "man-db",
  lexgrog: "man-db",
  groff: "groff-base",
  bash: "bash",
};

export type Capability =
  | "root"
  | "loop"
  | "ext4"
  | "autofs"
  | "device-mapper"
  | "automount"
  | "luks"
  | "bacula"
  | "exec-as-user"
  | "vm"
  | `tool:${string}`
  | `user:${string}`
  | `group:${string}`;

const SQLITE_SCHEMA =
  "/usr/share/dbconfig-common/data/bacula-director-sqlite3/install/sqlite3";
const MAKE_TABLES = "/usr/share/bacula-director/make_sqlite3_tables";

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** The path of an installed tool, found in the usual dirs (not PATH), or undefined. */
export function toolPath(name: string): string | undefined {
  for (const dir of TOOL_DIRS) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function hasAccount(db: "passwd" | "group", name: string): boolean {
  return readOr(`/etc/${db}`, "")
    .split("\n")
    .some((line) => line.split(":")[0] === name);
}

let host: HostKernel | undefined;
/**
 * The running kernel has it, or has it as a module that mount (ext4) or automount (autofs4)
 * loads on first use: /proc/filesystems lists only what is loaded.
 */
function kernelHas(fsType: string, modules: string[]): boolean {
  host ??= realHostKernel();
  return (
    host.filesystems
      .split("\n")
      .some((line) => line.split("\t")[1]?.trim() === fsType) ||
    host.modules(modules).length > 0
  );
}

function tools(...names: string[]): string | undefined {
  const absent = names.filter((n) => !toolPath(n));
  if (absent.length === 0) return undefined;
  const packages = [...new Set(absent.map((n) => PACKAGES[n] ?? n))];
  return `${absent.join(", ")} ${absent.length === 1 ? "is" : "are"} not installed (apt-get install ${packages.join(" ")})`;
}

/** Why one capability is missing here, or undefined: probes that build on others ask them. */
function probe(need: Capability): string | undefined {
  if (need.startsWith("tool:")) return tools(need.slice(5));
  if (need.startsWith("user:")) {
    const name = need.slice(5);
    return hasAccount("passwd", name)
      ? undefined
      : `no ${name} user${name === "bacula" ? " (it comes with bacula-common)" : ""}`;
  }
  if (need.startsWith("group:")) {
    const name = need.slice(6);
    return hasAccount("group", name) ? undefined : `no ${name} group`;
  }
  switch (need) {
    case "exec-as-user": {
      // binaryForUsers() puts the binary below the temp root: others must reach it.
      const dir = untraversableParent(join(testRoot(), "bin", "magchanger"));
      return dir
        ? `other users cannot traverse ${dir}, which holds the run's temp root (chmod o+x ${dir}, or set TMPDIR=/tmp)`
        : undefined;
    }
    case "root":
      return process.getuid?.() === 0 ? undefined : "needs root";
    case "ext4":
      return kernelHas("ext4", ["ext4"]) ? undefined : "no ext4 in this kernel";
    case "autofs":
      return kernelHas("autofs", ["autofs4", "autofs"])
        ? undefined
        : "no autofs in this kernel";
    case "device-mapper":
      host ??= realHostKernel();
      return /^\s*\d+ device-mapper$/m.test(host.misc) ||
        host.modules(["dm-mod", "dm_mod"]).length > 0
        ? undefined
        : "no device-mapper in this kernel";
    case "loop":
      if (!existsSync("/dev/loop-control"))
        return "no loop devices (/dev/loop-control)";
      return missing(
        "root",
        "ext4",
        "tool:losetup",
        "tool:mkfs.ext4",
        "tool:mount",
        "tool:umount",
      );
    case "automount":
      return missing("loop", "autofs", "tool:automount", "tool:setsid");
    case "luks":
      return missing("loop", "tool:cryptsetup");
    case "vm": {
      // test/vm: a Debian 12 guest under QEMU's TCG, its image built here with mmdebstrap.
      const reason = missing(
        "root",
        "tool:qemu-system-x86_64",
        "tool:qemu-img",
        "tool:mmdebstrap",
        "tool:mke2fs",
        "tool:setpriv",
      );
      if (reason) return reason;
      const available = /^MemAvailable:\s+(\d+) kB$/m.exec(
        readOr("/proc/meminfo", ""),
      )?.[1];
      return available && Number(available) < 3 * 1024 * 1024
        ? `only ${Math.round(Number(available) / 1024)} MiB of memory available; the guest needs 2 GiB and the host 1 GiB beside it`
        : undefined;
    }
    case "bacula": {
      const reason = missing(
        "root",
        "tool:bacula-dir",
        "tool:bacula-sd",
        "tool:bacula-fd",
        "tool:bconsole",
        "tool:sqlite3",
      );
      if (reason) return reason;
      return existsSync(SQLITE_SCHEMA) || existsSync(MAKE_TABLES)
        ? undefined
        : `no sqlite3 catalog schema (${SQLITE_SCHEMA}; apt-get install bacula-director-sqlite3)`;
    }
  }
  return `unknown capability ${need}`;
}

const probed = new Map<Capability, string | undefined>();

/** Why the first of needs is missing on this machine, or undefined when all are there. */
export function missing(...needs: Capability[]): string | undefined {
  for (const need of needs) {
    if (!probed.has(need)) probed.set(need, probe(need));
    const reason = probed.get(need);
    if (reason) return reason;
  }
  return undefined;
}

const recorded = new Set<string>();

/** Prints and records (for .ci/run's summary) that suite is skipped, once per suite. */
export function recordSkip(
  suite: string,
  reason: string,
  print: (line: string) => void = console.warn,
): void {
  const key = `${reason}\t${suite}`;
  if (recorded.has(key)) return;
  recorded.add(key);
  print(`skip: ${suite}: ${reason}`);
  const log = process.env.MAGCHANGER_SKIP_LOG;
  if (log) appendFileSync(log, `${key}\n`);
}

/**
 * True when suite must skip because one of needs is missing (printed and recorded), for
 * `describe.skipIf(skipUnless([...], NAME))(NAME, ...)`.
 */
export function skipUnless(needs: Capability[], suite: string): boolean {
  const reason = missing(...needs);
  if (reason) recordSkip(suite, reason);
  return reason !== undefined;
}
