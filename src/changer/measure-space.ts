// Measuring an attached magazine's space at refresh (statfs, and the bytes of its volume files),
// recorded in magazines.json by noteMagazines once per stay. Apart from magazine-space.ts so that the
// paths that only read magazines.json (a failed `load`) load none of it.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { MagazineStatus } from "../disk/discover.ts";
import { filesystemSpace } from "../system/ext4.ts";
import type { MountEntry } from "../system/mounts.ts";
import type { System } from "../system/system.ts";
import type { MagazineSpace } from "./magazine-space.ts";

/**
 * Measures a present magazine's space when asked (noteMagazines asks once per stay, when it
 * arrives); undefined when statfs cannot say. The mount table is read once, on first use.
 */
export function spaceMeter(
  sys: Pick<System, "mounts">,
  now: Date,
): (status: MagazineStatus) => MagazineSpace | undefined {
  let mountTable: MountEntry[] | undefined;
  const mounts = () => (mountTable ??= sys.mounts());
  return (status) =>
    status.present && status.mountPoint
      ? measureSpace(
          status.mountPoint,
          status.volumes,
          mounts,
          now.toISOString(),
        )
      : undefined;
}

/** The run-as user's space on a mounted magazine; undefined when statfs cannot say. */
function measureSpace(
  mountPoint: string,
  volumes: string[],
  mounts: () => MountEntry[],
  at: string,
): MagazineSpace | undefined {
  try {
    const fs = filesystemSpace(mountPoint, mounts());
    return {
      availableBytes: fs.availableBytes,
      totalBytes: Math.max(0, fs.totalBytes - fs.reservedBytes),
      volumeBytes: volumeBytes(mountPoint, volumes),
      at,
    };
  } catch {
    return undefined;
  }
}

/** The bytes of the volume files (links are no volumes: lstat, never followed). */
function volumeBytes(mountPoint: string, volumes: string[]): number {
  let bytes = 0;
  for (const name of volumes) {
    try {
      const st = lstatSync(join(mountPoint, name));
      if (st.isFile()) bytes += st.size;
    } catch {
      // gone since the scan
    }
  }
  return bytes;
}
