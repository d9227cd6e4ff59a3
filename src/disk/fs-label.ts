// The filesystem label of the disk in a bay (`mkfs.ext4 -L usbchanger1-thu`), read once by root
// when a magazine is initialized or named and kept in its identity: the run-as user cannot read
// the device, and /dev/disk/by-label exists only where udev runs.
import type { System } from "../system/system.ts";

/** What blkid prints for LABEL; anything else (control characters, quotes, huge) is no label. */
const LABEL = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

export function isFilesystemLabel(value: unknown): value is string {
  return typeof value === "string" && LABEL.test(value) && !value.includes('"');
}

/** The label of the filesystem mounted exactly at mountPoint, or undefined (none, not root, no blkid). */
export async function filesystemLabel(
  mountPoint: string,
  sys: System,
  blkid: string,
): Promise<string | undefined> {
  const entry = sys.mounts().findLast((m) => m.mountPoint === mountPoint);
  if (!entry?.source.startsWith("/dev/")) return undefined;
  try {
    const result = await sys.exec(
      // -p: probe the device itself; the cache (/run/blkid) can hold a reused loop
      // device's old label.
      [blkid, "-p", "-o", "value", "-s", "LABEL", "--", entry.source],
      { timeoutMs: 10_000 },
    );
    const label = result.exitCode === 0 ? result.stdout.trim() : "";
    return isFilesystemLabel(label) ? label : undefined;
  } catch {
    return undefined;
  }
}
