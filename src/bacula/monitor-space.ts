// The free space of an attached magazine, for `check` and the metrics, measured only where that
// mounts nothing. Both run every minute: a stat of an autofs bay whose disk autofs has unmounted
// would mount it again, and a disk that is mounted is not safe to pull. So a bay is touched only
// when /proc/self/mountinfo shows its filesystem mounted now, or when no autofs mount is at or
// above it (a plain directory); then one lstat of the identity the last refresh recorded and one
// statfs. Walking into an autofs disk that is mounted restarts autofs's idle timeout (10 s with
// setup's map): a check delays the unmount by that much, it never keeps the disk mounted.
import { lstatSync } from "node:fs";
import { resolve } from "node:path";
import type { ChangerContext } from "../changer/context.ts";
import type { MagazineConfig } from "../config/schema.ts";
import { resolveMountPoint } from "../disk/discover.ts";
import { identityDir } from "../disk/identity.ts";
import { filesystemSpace } from "../system/ext4.ts";
import type { MountEntry } from "../system/mounts.ts";

export interface MagazineSpace {
  /** What the run-as user may still write. */
  availableBytes: number;
  /** What the run-as user may fill at most: root's reserve is not theirs. */
  usableBytes: number;
}

/** Whether nothing autofs manages is at or above path (a stat there cannot mount anything). */
function outsideAutofs(path: string, mounts: MountEntry[]): boolean {
  return !mounts.some(
    (m) =>
      m.fsType === "autofs" &&
      (path === m.mountPoint ||
        path.startsWith(m.mountPoint === "/" ? "/" : `${m.mountPoint}/`)),
  );
}

/** Where the bay's filesystem is mounted now, if a stat there mounts nothing; else undefined. */
async function mountedBay(
  ctx: ChangerContext,
  spec: MagazineConfig,
): Promise<string | undefined> {
  // A uuid or label bay: blkid and the mount table say where it is mounted, if anywhere.
  if (spec.path === undefined)
    return (await resolveMountPoint(spec, ctx.sys)).mountPoint;
  const path = resolve(spec.path);
  const mounts = ctx.sys.mounts();
  const mounted = mounts.some(
    (m) => m.mountPoint === path && m.fsType !== "autofs",
  );
  return mounted || outsideAutofs(path, mounts) ? path : undefined;
}

/**
 * The space of magazine uuid in bay (1-based), or why it was not measured: its filesystem is not
 * mounted now, or the disk there is not that magazine (a swap the next refresh will record).
 */
export async function magazineSpace(
  ctx: ChangerContext,
  bay: number,
  uuid: string,
): Promise<MagazineSpace | string> {
  const spec = ctx.config.magazine[bay - 1];
  if (!spec) return `bay ${bay} is no longer in the config`;
  const mountPoint = await mountedBay(ctx, spec);
  if (mountPoint === undefined)
    return `bay ${bay}: not mounted now (not measured: that would mount it)`;
  try {
    if (!lstatSync(identityDir(mountPoint, uuid)).isDirectory())
      return `bay ${bay}: the disk there is not this magazine`;
    const fs = filesystemSpace(mountPoint, ctx.sys.mounts());
    return {
      availableBytes: fs.availableBytes,
      usableBytes: Math.max(0, fs.totalBytes - fs.reservedBytes),
    };
  } catch {
    return `bay ${bay}: the disk there is not this magazine (as of the last refresh)`;
  }
}
