// The mount table, read from /proc/self/mountinfo (stat-free: findmnt would stat the path and
// reset autofs's expiry timer).
import { readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";

export interface MountEntry {
  majorMinor: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(" ");
    const right = line.slice(dash + 3).split(" ");
    entries.push({
      majorMinor: left[2] ?? "",
      mountPoint: unescapeMount(left[4] ?? ""),
      fsType: right[0] ?? "",
      source: unescapeMount(right[1] ?? ""),
    });
  }
  return entries;
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

export function readMountInfo(): MountEntry[] {
  return parseMountInfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

/** The mounts of a block device given as major:minor, newest last. */
export function mountsOfDevice(
  entries: MountEntry[],
  majorMinor: string,
): MountEntry[] {
  return entries.filter((e) => e.majorMinor === majorMinor);
}

/** The mount points of a block device given as major:minor, newest last. */
export function mountPointsOf(
  entries: MountEntry[],
  majorMinor: string,
): string[] {
  return mountsOfDevice(entries, majorMinor).map((e) => e.mountPoint);
}

export function majorMinorOf(rdev: number): string {
  // Linux dev_t encoding (glibc gnu_dev_major/minor).
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
  return `${major}:${minor}`;
}

interface FileId {
  dev: number | bigint;
  ino: number | bigint;
}

/** A directory is a mount point when its device differs from its parent's, or it is / itself. */
export function mountedOn(dir: FileId, parent: FileId): boolean {
  return parent.dev !== dir.dev || parent.ino === dir.ino;
}

/** Is dir a mount point? By stat, unlike the table above: stat'ing an autofs bay mounts it. */
export function isMountPoint(dir: string, dirStat = statSync(dir)): boolean {
  return mountedOn(dirStat, statSync(dirname(dir)));
}
