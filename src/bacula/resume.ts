// Resume: a job the storage daemon holds BLOCKED waiting for a mount keeps waiting after its disk
// is attached and `update slots` ran (seen on 9.6.7); `mount storage=S drive=N` wakes it and the
// SD asks the changer to load again. Only drives the SD reports blocked waiting for a volume are
// touched: a drive that reads, writes, is idle or was unmounted by an operator never gets a mount.
import { describeJobs } from "../events/types.ts";
import { quoteName, runBconsole } from "./bconsole.ts";
import {
  type DriveJob,
  type DriveStatus,
  parseStorageStatus,
} from "./sd-status.ts";
import { noteWaitingVolumes, waitedVolumes } from "./waiting.ts";
import { catalogVolumes } from "./catalog.ts";
import { appendWaits, spaceWaits } from "./space-needed.ts";
import { noteSpaceWaits } from "./space-wanted.ts";
import type { ChangerContext } from "../changer/context.ts";

export interface ResumeMount {
  drive: number;
  /** The slot of the wanted volume; 0 for a job that waits for any appendable volume. */
  slot: number;
  volume?: string;
  jobs: DriveJob[];
  command: string;
}

export interface ResumeInput {
  storage: string;
  status: DriveStatus[];
  /** Volumes in the changer now (attached magazines), by barcode. */
  present: { slot: number; barcode: string }[];
  /** Volumes appeared since Bacula last heard (a fresh disk may end a wait for an appendable one). */
  changed: boolean;
}

/** The mounts that let waiting jobs continue: pure, so every rule is tested without Bacula. */
export function planResume(input: ResumeInput): ResumeMount[] {
  const slots = new Map(input.present.map((v) => [v.barcode, v.slot]));
  const mounts: ResumeMount[] = [];
  for (const d of input.status) {
    if (d.state !== "blocked-mount" || d.drive === null) continue;
    let slot: number | undefined;
    if (d.wantedVolume !== undefined) slot = slots.get(d.wantedVolume);
    else if (input.changed && input.present.length > 0) slot = 0;
    if (slot === undefined) continue;
    // slot= is always given: without it bconsole prompts "Enter autochanger slot:" and eats
    // the next line of the script (seen on 9.6.7). slot=0 wakes the job without a load.
    mounts.push({
      drive: d.drive,
      slot,
      ...(d.wantedVolume !== undefined ? { volume: d.wantedVolume } : {}),
      jobs: d.jobs,
      command: `mount storage=${input.storage} drive=${d.drive} slot=${slot}`,
    });
  }
  return mounts;
}

/**
 * Sends the mounts (one bconsole call; none when there is nothing to wake). A failure throws:
 * the caller keeps its pending mark, so the next refresh reads the SD again and repeats only
 * the mounts still needed.
 */
export async function resumeWaitingJobs(
  ctx: ChangerContext,
  input: Omit<ResumeInput, "storage">,
): Promise<ResumeMount[]> {
  const storage = quoteName(ctx.config.bacula.storage ?? ctx.config.name);
  const mounts = planResume({ ...input, storage });
  if (mounts.length === 0) return [];
  for (const m of mounts) {
    const jobs = describeJobs(m.jobs);
    ctx.log.info(
      `refresh: drive ${m.drive} waits${m.volume ? ` for ${m.volume}` : " for an appendable volume"}${jobs ? ` (${jobs})` : ""}: running bconsole: ${m.command}`,
    );
  }
  const result = await runBconsole(
    ctx.config,
    mounts.map((m) => m.command),
    ctx.sys.exec,
  );
  ctx.log.debug(`refresh: mount said: ${result.output.slice(-2000)}`);
  return mounts;
}

/**
 * After `update slots`, from the `status storage` and `list volumes` outputs of refresh's own
 * bconsole calls: tells the operator about waits for disks in the drawer (a named volume, or any
 * volume with space in a pool), then wakes the waits the changer can now serve.
 */
export async function resumeAfterUpdate(
  ctx: ChangerContext,
  statusOutput: string,
  present: { slot: number; barcode: string }[],
  catalogOutput: string,
): Promise<ResumeMount[]> {
  const status = parseStorageStatus(statusOutput);
  const waits = waitedVolumes(ctx, status);
  noteWaitingVolumes(ctx, waits);
  // No device in the answer: the SD was not read, and no wait may count as ended.
  if (status.length > 0)
    noteSpaceWaits(
      ctx,
      spaceWaits(ctx, appendWaits(status), catalogVolumes(catalogOutput)),
    );
  // A volume on a disk with no room for the run-as user: a mount would only meet ENOSPC again.
  const full = new Set(waits.filter((w) => w.noRoom).map((w) => w.volume));
  return resumeWaitingJobs(ctx, {
    status,
    present: present.filter((v) => !full.has(v.barcode)),
    changed: true,
  });
}
