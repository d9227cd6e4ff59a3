// Which bay `magchanger eject` means, what Bacula is doing with its volumes, and the mapping
// behind its mount. Facts only; eject.ts acts on them.
import { readFileSync, statSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import type { MagazineStatus } from "../disk/discover.ts";
import type { MagazineIdentity } from "../disk/identity.ts";
import { magazineRef, sameName } from "../disk/magazine-name.ts";
import { UsageError } from "../errors.ts";
import { describeMagazine } from "../events/types.ts";
import { majorMinorOf, type MountEntry } from "../system/mounts.ts";
import type { DriveStatus } from "./sd-status.ts";
export { diskMountAt } from "../disk/pull-safety.ts";

export function magazineName(identity: MagazineIdentity): string | undefined {
  return identity.name;
}

/** `magazine 2 "Thursday" (label ..., UUID ...)`, as every message names a magazine. */
export function describeIdentity(identity: MagazineIdentity): string {
  return describeMagazine(magazineRef(identity));
}

/**
 * The bay target names: a bay number, a bay path, or a magazine's name (or number, as
 * `magazine N`) among the attached ones. Without a target: the one bay that holds a disk.
 */
export function chooseBay(
  config: Config,
  bays: MagazineStatus[],
  target: string | undefined,
): MagazineStatus {
  const occupied = bays.filter((b) => b.present || b.mountPoint !== undefined);
  if (target === undefined) {
    const withMagazine = bays.filter((b) => b.present);
    if (withMagazine.length === 1) return withMagazine[0] as MagazineStatus;
    if (bays.length === 1) return bays[0] as MagazineStatus;
    throw new UsageError(
      `${config.source} has ${bays.length} bays and ${withMagazine.length} hold a magazine: name one (magchanger eject -c ${config.source} BAY|NAME)`,
    );
  }
  if (/^\d+$/.test(target)) {
    const bay = bays.find((b) => b.index === Number(target));
    if (bay) return bay;
    throw new UsageError(
      `bay ${target} is not in ${config.source} (it has ${bays.length}); give a bay number 1..${bays.length} or a magazine name`,
    );
  }
  const byPath = bays.find(
    (b) => b.spec.path === target || b.mountPoint === target,
  );
  if (byPath) return byPath;
  const byName = occupied.filter(
    (b) => b.identity && sameName(b.identity.name, target),
  );
  if (byName.length === 1) return byName[0] as MagazineStatus;
  throw new UsageError(
    `no attached magazine is called "${target}" and no bay of ${config.source} is ${target}; run \`magchanger magazine list -c ${config.source}\``,
  );
}

export interface VolumeUse {
  drive: number | null;
  device: string;
  state: DriveStatus["state"];
  volume: string;
  jobs: DriveStatus["jobs"];
}

/** The SD devices whose job reads, writes or waits on a volume of this magazine. */
export function volumesInUse(
  status: DriveStatus[],
  volumes: ReadonlySet<string>,
): VolumeUse[] {
  const uses: VolumeUse[] = [];
  for (const d of status) {
    const volume = d.volume && volumes.has(d.volume) ? d.volume : undefined;
    if (!volume) continue;
    const active =
      d.jobs.length > 0 ||
      d.state === "reading" ||
      d.state === "writing" ||
      d.state === "blocked-mount";
    if (active)
      uses.push({
        drive: d.drive,
        device: d.device,
        state: d.state,
        volume,
        jobs: d.jobs,
      });
  }
  return uses;
}

export function describeUse(use: VolumeUse): string {
  const jobs = use.jobs.length
    ? use.jobs.map((j) => `job ${j.name} (JobId ${j.jobid})`).join(", ")
    : "a job";
  const doing =
    use.state === "writing"
      ? "writing"
      : use.state === "reading"
        ? "reading"
        : "using";
  const drive =
    use.drive === null ? `device ${use.device}` : `drive ${use.drive}`;
  return `${jobs} is ${doing} volume ${use.volume} on ${drive}`;
}

/**
 * The device-mapper name behind a mount: /dev/mapper/NAME (checked to be the mounted device
 * by its number, never trusted by the string alone) or /dev/dm-N (named by sysfs).
 */
export function mappingOf(
  mount: MountEntry,
  sysRoot = "/sys",
): string | undefined {
  const mapper = /^\/dev\/mapper\/([A-Za-z0-9][A-Za-z0-9_.+-]{0,63})$/.exec(
    mount.source,
  );
  if (mapper) {
    try {
      const stats = statSync(mount.source);
      if (
        stats.isBlockDevice() &&
        majorMinorOf(stats.rdev) === mount.majorMinor
      )
        return mapper[1];
    } catch {
      return undefined;
    }
    return undefined;
  }
  if (/^\/dev\/dm-\d+$/.test(mount.source)) {
    try {
      return (
        readFileSync(
          `${sysRoot}/dev/block/${mount.majorMinor}/dm/name`,
          "utf8",
        ).trim() || undefined
      );
    } catch {
      return undefined;
    }
  }
  return undefined;
}
