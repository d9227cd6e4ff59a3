// The compiled magchanger and the real disks it works on, for the Bacula scenarios.
import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describeFailure, runTool, type ToolResult } from "./processes.ts";
import type { Scratch } from "./scratch.ts";
import { baculaMissing, resolveUser } from "./setup.ts";

export const MAGCHANGER = resolve(import.meta.dir, "../../../dist/magchanger");

function which(name: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) =>
    existsSync(join(d, name)),
  );
}

function helpWorks(args: string[]): boolean {
  const r = Bun.spawnSync([MAGCHANGER, ...args, "--help"], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 10_000,
  });
  return (
    r.exitCode === 0 && !`${r.stdout}${r.stderr}`.includes("not built yet")
  );
}

/** Why the changer scenarios cannot run here, or undefined. */
export function changerScenarioMissing(): string | undefined {
  const bacula = baculaMissing();
  if (bacula) return bacula;
  const tools = ["losetup", "mkfs.ext4", "mount", "umount"].filter(
    (t) => !which(t),
  );
  if (tools.length > 0)
    return `missing ${tools.join(", ")} (util-linux, e2fsprogs)`;
  if (!existsSync("/dev/loop-control"))
    return "no loop device support (/dev/loop-control)";
  if (!existsSync(MAGCHANGER))
    return `${MAGCHANGER} is not built: run \`bun run build\``;
  if (!helpWorks(["changer"]))
    return "dist/magchanger has no working `changer` command";
  if (!helpWorks(["magazine", "init"]))
    return "dist/magchanger has no working `magazine init`";
  try {
    resolveUser("bacula", "tape");
  } catch {
    return "no bacula user or tape group (they come with the bacula-common package)";
  }
  return undefined;
}

/** Why `magchanger refresh` cannot be used yet, or undefined. */
export function refreshMissing(): string | undefined {
  return helpWorks(["refresh"])
    ? undefined
    : "`magchanger refresh` is not built yet";
}

export async function magchanger(
  args: string[],
  timeoutMs = 120_000,
): Promise<ToolResult> {
  return runTool([MAGCHANGER, ...args], { timeoutMs });
}

/** Runs magchanger and throws with its output unless it exits 0. */
export async function magchangerOk(
  args: string[],
  timeoutMs = 120_000,
): Promise<ToolResult> {
  const r = await magchanger(args, timeoutMs);
  if (r.exitCode !== 0 || r.timedOut)
    throw new Error(`magchanger failed:\n${describeFailure(r)}`);
  return r;
}

export interface Disk {
  label: string;
  image: string;
  device: string;
}

/**
 * A sparse image with ext4 on a loop device, as `magazine init` expects a prepared disk: no
 * blocks reserved for root (`-m 0`: the seed's trap) and its root directory owned by the
 * run-as user (what the seed does with chown after mounting).
 */
export async function makeDisk(
  scratch: Scratch,
  label: string,
  mib: number,
  owner: { uid: number; gid: number },
): Promise<Disk> {
  const image = join(scratch.root, `${label}.img`);
  writeFileSync(image, "");
  truncateSync(image, mib * 1024 * 1024);
  const mkfs = await runTool(
    [
      "mkfs.ext4",
      "-q",
      "-F",
      "-m",
      "0",
      "-b",
      "4096",
      "-L",
      label,
      "-E",
      `root_owner=${owner.uid}:${owner.gid}`,
      "--",
      image,
    ],
    { timeoutMs: 60_000 },
  );
  if (mkfs.exitCode !== 0)
    throw new Error(`mkfs.ext4 failed:\n${describeFailure(mkfs)}`);
  return { label, image, device: await scratch.attachLoop(image) };
}

/**
 * Invocations recorded in the changer log. Every magchanger command that opens a changer logs
 * exactly one "switched to ..." / "running as ..." line at debug level when it starts
 * (src/commands/context.ts), so with log_level = "debug" this counts calls.
 */
export function changerInvocations(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => /\] debug: (switched to |running as )/.test(l)).length;
}

export function changerLogLines(
  logFile: string,
  level: "error" | "warn",
): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => l.includes(`] ${level}: `));
}
