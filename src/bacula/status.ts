// `magchanger status -c CONF [--json]`: the bays, the drawer, the drives, and what the storage
// daemon says each drive does or waits for (status storage through bconsole, with the changer
// lock not held), with the disk each wait needs by its name. Waits for a disk in the drawer are
// queued as volume-needed events, once per wait (waiting.ts), as refresh does; a backup waiting
// for any volume with space, with the disks that hold one, as space-needed (space-needed.ts).
import type { ChangerContext } from "../changer/context.ts";
import {
  describeMagazine,
  describeSpaceMagazine,
  describeJobs,
  describeVolumeDamage,
} from "../events/types.ts";
import { type PullSafety, pullSafetyOfBays } from "../disk/pull-safety.ts";
import { readDrives } from "../state/drives.ts";
import { printable } from "../text.ts";
import {
  type DrawerReport,
  drawerReports,
  formatDrawer,
  withAttachTimes,
} from "./drawer.ts";
import {
  formatReports,
  type MagazineReport,
  magazineReports,
} from "./report.ts";
import { type DriveStatus, readStorageStatus } from "./sd-status.ts";
import { readSpaceWaits, type SpaceWait } from "./space-needed.ts";
import { noteSpaceWaits } from "./space-wanted.ts";
import {
  noteWaitingVolumes,
  type WaitedVolume,
  waitedVolumes,
} from "./waiting.ts";

import { type DamagedVolume, readDamaged } from "./damage.ts";

export interface ChangerStatus {
  changer: string;
  bays: MagazineReport[];
  drawer: DrawerReport[];
  drives: {
    drive: number;
    slot?: number;
    volume?: string;
    bacula?: DriveStatus;
  }[];
  /** Why the storage daemon could not be asked, when it could not. */
  baculaError?: string;
  waiting: WaitedVolume[];
  /** Backups waiting for any volume with space in a pool, and the disks that hold one. */
  space: SpaceWait[];
  pull: PullSafety[];
  /** Volumes refresh found untrustworthy (a disk pulled while in use, lost writes). */
  damaged: DamagedVolume[];
}

export async function changerStatus(
  ctx: ChangerContext,
): Promise<ChangerStatus> {
  const bays = withAttachTimes(ctx, await magazineReports(ctx));
  const drawer = drawerReports(ctx, bays);
  let sd: DriveStatus[] = [];
  let baculaError: string | undefined;
  if (ctx.config.legacy?.bconsole_disabled) {
    baculaError = `bconsole is disabled in ${ctx.config.source}`;
  } else {
    try {
      sd = await readStorageStatus(ctx.config, ctx.sys.exec);
    } catch (error) {
      baculaError = (error as Error).message;
    }
  }
  const waiting = waitedVolumes(ctx, sd);
  const space = await readSpaceWaits(ctx, sd);
  // Only from a status that was read: a wait missing from a failed read has not ended.
  if (baculaError === undefined) {
    noteWaitingVolumes(ctx, waiting);
    noteSpaceWaits(ctx, space);
  }
  const state = readDrives(ctx.config.work_dir);
  const drives: ChangerStatus["drives"] = [];
  for (let drive = 0; drive < ctx.config.drives; drive++) {
    const loaded = state[drive];
    const bacula = sd.find((d) => d.drive === drive);
    drives.push({
      drive,
      ...(loaded ? { slot: loaded.slot, volume: loaded.barcode } : {}),
      ...(bacula ? { bacula } : {}),
    });
  }
  return {
    changer: ctx.config.name,
    bays,
    drawer,
    drives,
    ...(baculaError !== undefined ? { baculaError } : {}),
    waiting,
    space,
    pull: pullSafetyOfBays(ctx.config, bays, ctx.sys.mounts(), state),
    damaged: [...readDamaged(ctx.config.work_dir).values()],
  };
}

function describeDrive(d: ChangerStatus["drives"][number]): string {
  const held = d.slot !== undefined ? `slot ${d.slot} (${d.volume})` : "empty";
  const b = d.bacula;
  if (!b) return `drive ${d.drive}: ${held}`;
  const jobs = describeJobs(b.jobs, "plain");
  const what =
    b.state === "blocked-mount"
      ? `blocked waiting for ${b.wantedVolume ?? "an appendable volume"}`
      : b.state === "mounted" || b.state === "reading" || b.state === "writing"
        ? `${b.state}${b.volume ? ` ${b.volume}` : ""}`
        : b.state;
  return `drive ${d.drive}: ${held}; Bacula: ${what}${jobs ? ` (${jobs})` : ""}`;
}

function describeWait(w: WaitedVolume): string {
  const jobs = describeJobs(w.jobs, "plain");
  const who = jobs ? `${jobs} waits` : "a job waits";
  if (!w.magazine)
    return `${who} for ${w.volume}, which is no volume of this changer`;
  const disk = describeMagazine(w.magazine);
  if (w.noRoom)
    return `${who} for ${w.volume} (slot ${w.slot}) on ${disk}, which is attached but ${w.noRoom}; then \`magchanger refresh --force\` lets it continue`;
  return w.attached
    ? `${who} for ${w.volume} (slot ${w.slot}) on ${disk}, which is attached: \`magchanger refresh\` lets it continue`
    : `${who} for ${w.volume} (slot ${w.slot}): attach ${disk}; the job continues by itself after the refresh that follows`;
}

function describeSpaceWait(w: SpaceWait): string {
  const jobs = describeJobs(w.jobs, "plain");
  const who = `${jobs ? `${jobs} waits` : "a job waits"} for a volume with space in pool "${w.pool}"`;
  if (w.catalogError !== undefined)
    return `${who} (cannot read Bacula's catalog: ${w.catalogError})`;
  if (w.attached.length > 0)
    return `${who}: ${w.attached
      .map((m) => `${describeSpaceMagazine(m)}, in bay ${m.bay ?? "?"}`)
      .join("; ")}; \`magchanger refresh\` lets it try again`;
  if (w.drawer.length === 0)
    return `${who}, and no magazine holds one: prepare a new disk (\`magchanger magazine init\`)`;
  return `${who}: attach ${w.drawer.map(describeSpaceMagazine).join("; or ")}; the refresh that follows lets it try again`;
}

export function formatStatus(s: ChangerStatus): string {
  const lines = [
    ...s.drives.map(describeDrive),
    ...(s.baculaError !== undefined
      ? [`Bacula: cannot read the storage daemon's status: ${s.baculaError}`]
      : []),
    ...s.waiting.map(describeWait),
    ...s.space.map(describeSpaceWait),
    ...s.damaged.map(describeVolumeDamage),
    ...s.pull.map((p) => `bay ${p.bay}: ${p.text}`),
  ];
  return `${formatReports(s.bays)}${formatDrawer(s.drawer)}${lines.map(printable).join("\n")}\n`;
}
