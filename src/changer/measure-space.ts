// Measuring the attached magazines' space at refresh (statfs, and the bytes of their volume
// files), recorded in magazines.json by noteMagazines. Apart from magazine-space.ts so that the
// paths that only read magazines.json (a failed `load`) load none of it.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { MagazineStatus } from "../disk/discover.ts";
import { filesystemSpace } from "../system/ext4.ts";
import type { MountEntry } from "../system/mounts.ts";
import type { System } from "../system/system.ts";
import type { MagazineSpace } from "./magazine-space.ts";

/** Each present magazine's space, by uuid; one that statfs cannot measure is left out. */
export function measureMagazines(
  magazines: MagazineStatus[],
  sys: Pick<System, "mounts">,
  now: Date,
): Map<string, MagazineSpace> {
  const spaces = new Map<string, MagazineSpace>();
  let mountTable: MountEntry[] | undefined;
  const mounts = () => (mountTable ??= sys.mounts());
  for (const status of magazines) {
    if (!status.present || !status.identity || !status.mountPoint) continue;
    const space = measureSpace(
      status.mountPoint,
      status.volumes,
      mounts,
      now.toISOString(),
    );
    if (space) spaces.set(status.identity.uuid, space);
  }
  return spaces;
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
