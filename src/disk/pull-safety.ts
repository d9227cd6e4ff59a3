// Whether the disk in a bay may be pulled now, for doctor and `magchanger status`: only when
// nothing is mounted from it (a mounted disk may have a volume open or dirty pages; `magchanger
// eject` makes it safe). Facts from the mount table and drives.json alone: no bconsole, no scan.
import type { Config } from "../config/schema.ts";
import type { DriveState } from "../state/drives.ts";
import type { MountEntry } from "../system/mounts.ts";

export interface PullSafety {
  bay: number;
  safe: boolean;
  /** One line: why, and what to run when it is not safe. */
  text: string;
}

/** A bay as doctor's probe and status's report both have it. */
export interface PullBay {
  bay: number;
  mountPoint?: string | undefined;
  uuid?: string | undefined;
  allowUnmounted: boolean;
}

/** The disk's mount at mountPoint (not an autofs trigger mounted there). */
export function diskMountAt(
  mounts: MountEntry[],
  mountPoint: string,
): MountEntry | undefined {
  const clean = mountPoint.replace(/\/+$/, "") || "/";
  return mounts.findLast(
    (m) => m.mountPoint === clean && m.fsType !== "autofs",
  );
}

export function pullSafety(
  config: Config,
  bay: PullBay,
  mounts: MountEntry[],
  drives: DriveState,
): PullSafety {
  const { bay: index } = bay;
  if (bay.allowUnmounted)
    return {
      bay: index,
      safe: false,
      text: "a directory (allow_unmounted), not a removable disk",
    };
  const mount = bay.mountPoint
    ? diskMountAt(mounts, bay.mountPoint)
    : undefined;
  if (!mount)
    return { bay: index, safe: true, text: "nothing is mounted: safe to pull" };
  const loaded = drives
    .map((d, i) =>
      d && bay.uuid && d.magazine === bay.uuid
        ? `${d.barcode} in drive ${i}`
        : undefined,
    )
    .filter(Boolean);
  const inDrives = loaded.length ? `, ${loaded.join(", ")}` : "";
  return {
    bay: index,
    safe: false,
    text: `not safe to pull: ${mount.source} is mounted at ${mount.mountPoint}${inDrives}; run \`magchanger eject -c ${config.source} ${index}\` first`,
  };
}

/** `bay N: ...` for every removable bay (status prints these). */
export function pullSafetyOfBays(
  config: Config,
  bays: {
    bay: number;
    mountPoint?: string | undefined;
    uuid?: string | undefined;
  }[],
  mounts: MountEntry[],
  drives: DriveState,
): PullSafety[] {
  return bays
    .filter((b) => !config.magazine[b.bay - 1]?.allow_unmounted)
    .map((b) =>
      pullSafety(config, { ...b, allowUnmounted: false }, mounts, drives),
    );
}
