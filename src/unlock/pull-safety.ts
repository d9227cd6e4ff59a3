// Whether the disk in a bay may be pulled now, for doctor and `magchanger status`: only when
// nothing is mounted from it (a mounted disk may have a volume open or dirty pages; eject makes
// it safe). Facts from the mount table and drives.json alone: no bconsole, no scan.
import type { Config } from "../config/schema.ts";
import type { MagazineStatus } from "../disk/discover.ts";
import type { DriveState } from "../state/drives.ts";
import type { MountEntry } from "../system/mounts.ts";
import { diskMountAt } from "./eject-target.ts";

export interface PullSafety {
  safe: boolean;
  /** One line: why, and what to run when it is not safe. */
  text: string;
}

export function pullSafety(
  config: Config,
  bay: MagazineStatus,
  mounts: MountEntry[],
  drives: DriveState,
): PullSafety {
  if (bay.spec.allow_unmounted)
    return {
      safe: false,
      text: `a directory (allow_unmounted), not a removable disk`,
    };
  const mount = bay.mountPoint
    ? diskMountAt(mounts, bay.mountPoint)
    : undefined;
  if (!mount) return { safe: true, text: "nothing is mounted: safe to pull" };
  const uuid = bay.identity?.uuid;
  const loaded = drives
    .map((d, i) =>
      d && uuid && d.magazine === uuid
        ? `${d.barcode} in drive ${i}`
        : undefined,
    )
    .filter(Boolean);
  const inDrives = loaded.length ? `, ${loaded.join(", ")}` : "";
  return {
    safe: false,
    text: `not safe to pull: ${mount.source} is mounted at ${mount.mountPoint}${inDrives}; run \`magchanger eject -c ${config.source} ${bay.index}\` first`,
  };
}
