// The seed's trap on the real chain: a disk whose filesystem has no space left for the run-as
// user (often only root's reserved blocks remain, which `df` as root still shows free). A volume
// never written yet can only be wanted for writing there, and the storage daemon's write would
// fail with a bare ENOSPC that names neither the cause nor the fix; its load fails instead,
// saying both. A volume that holds data still loads: a restore reads it.
import { statfsSync } from "node:fs";
import type { MountEntry } from "../system/mounts.ts";
import { filesystemSpace } from "../system/ext4.ts";
import { formatBytes } from "../text.ts";

/** Less than this left and a volume cannot take one block of a job. */
const ROOM_BYTES = 64 * 1024;

/** Why a fresh volume on mountPoint cannot be written by user, or undefined when it can. */
export function noRoomFor(
  mountPoint: string,
  mounts: MountEntry[],
  user: string,
): string | undefined {
  let space: ReturnType<typeof filesystemSpace>;
  try {
    // One statfs answers the common case (room): the mount table and the superblock read that
    // word the message only when there is none.
    const fs = statfsSync(mountPoint);
    if (Number(fs.bavail) * Number(fs.bsize) > ROOM_BYTES) return undefined;
    space = filesystemSpace(mountPoint, mounts);
  } catch {
    return undefined; // the write will say what is wrong
  }
  if (space.availableBytes > ROOM_BYTES) return undefined;
  const device = space.device ?? "DEVICE";
  return space.reservedBytes > 0
    ? `its filesystem has ${formatBytes(space.availableBytes)} left for ${user}: the last ${formatBytes(space.reservedBytes)} are reserved for root, which ${user} cannot use; run \`tune2fs -m 0 ${device}\` (or free space, or attach another magazine)`
    : `its filesystem is full (${formatBytes(space.availableBytes)} left for ${user}); free space or attach another magazine`;
}
