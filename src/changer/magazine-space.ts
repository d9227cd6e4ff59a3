// A magazine's space for the run-as user as refresh last measured it (WORK_DIR/magazines.json):
// the one figure known of a disk in the drawer, read back without trusting the file.
import { filesystemSpace } from "../system/ext4.ts";
import type { MountEntry } from "../system/mounts.ts";

export interface MagazineSpace {
  availableBytes: number;
  /** Everything the run-as user may fill (root's reserve not counted). */
  totalBytes: number;
  at: string;
}

const isBytes = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export function sanitizeSpace(raw: unknown): MagazineSpace | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const s = raw as Record<string, unknown>;
  if (!isBytes(s.availableBytes) || !isBytes(s.totalBytes)) return undefined;
  if (typeof s.at !== "string" || Number.isNaN(Date.parse(s.at)))
    return undefined;
  return {
    availableBytes: s.availableBytes,
    totalBytes: s.totalBytes,
    at: s.at,
  };
}

/** The run-as user's space on a mounted magazine; undefined when statfs cannot say. */
export function measureSpace(
  mountPoint: string,
  mounts: () => MountEntry[],
  at: string,
): MagazineSpace | undefined {
  try {
    const fs = filesystemSpace(mountPoint, mounts());
    return {
      availableBytes: fs.availableBytes,
      totalBytes: Math.max(0, fs.totalBytes - fs.reservedBytes),
      at,
    };
  } catch {
    return undefined;
  }
}
