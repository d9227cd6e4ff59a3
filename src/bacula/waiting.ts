// Jobs the storage daemon holds waiting for a volume on a disk in the drawer. A restore whose
// volume Bacula knows is not in the changer never calls `load` (seen on 9.6.7: the SD blocks
// "waiting for mount of volume" at once), so the failed-load record alone would not tell the
// operator: refresh and `status` read the SD and queue one volume-needed event per wait.
// WORK_DIR/wanted.json lists the volumes already told and still waited for, so a wait is told
// once however often it is read, and again only after it ended and a new one began.
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { noRoomFor } from "../changer/full-magazine.ts";
import {
  knownMagazineRef,
  readKnownMagazines,
} from "../changer/known-magazines.ts";
import type { ChangerContext } from "../changer/context.ts";
import {
  enqueueEvent,
  eventsDir,
  readEventFile,
  SENT_DIR,
} from "../events/queue.ts";
import type { ChangerEvent, EventMagazine } from "../events/types.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readRegistry } from "../state/registry.ts";
import { readTextBounded } from "../state/safe-fs.ts";
import { type DriveStatus, readStorageStatus } from "./sd-status.ts";
import { noteSpaceWaitsFromStatus } from "./space-wanted.ts";

/** A failed load's event and the SD's block that follows it are one wait. */
const SAME_WAIT_MS = 60 * 60 * 1000;

export interface WaitedVolume {
  volume: string;
  drive: number | null;
  jobs: { jobid: number; name: string }[];
  slot?: number;
  magazine?: EventMagazine;
  /** The magazine is in a bay now (the wait ends at the next refresh). */
  attached: boolean;
  /**
   * Attached, but its filesystem has no room left for the run-as user (the seed's trap: root's
   * reserve): the SD hit ENOSPC on the volume and waits; a mount would only hit it again.
   */
  noRoom?: string;
}

/** One line per volume waited for: far more than any SD has drives. */
export const MAX_WANTED_BYTES = 1024 * 1024;

function wantedPath(workDir: string): string {
  return join(workDir, "wanted.json");
}

interface Wanted {
  /** Volume -> when its wait was first told (or found told by a failed load). */
  volumes: Record<string, string>;
  /** Volume -> when its last wait ended: an event from before then is an older wait's. */
  ended: Record<string, string>;
}

function record(value: unknown): Record<string, string> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, string>)
    : {};
}

function readWanted(workDir: string): Wanted {
  try {
    const data = JSON.parse(
      readTextBounded(wantedPath(workDir), { maxBytes: MAX_WANTED_BYTES }),
    ) as Partial<Wanted>;
    return { volumes: record(data.volumes), ended: record(data.ended) };
  } catch {
    return { volumes: {}, ended: {} };
  }
}

/** What each blocked drive waits for, and where that volume is (registry and catalogue only). */
export function waitedVolumes(
  ctx: ChangerContext,
  status: DriveStatus[],
): WaitedVolume[] {
  const blocked = status.filter(
    (d) => d.state === "blocked-mount" && d.wantedVolume !== undefined,
  );
  if (blocked.length === 0) return [];
  const registry = readRegistry(ctx.config.work_dir);
  const known = readKnownMagazines(ctx.config.work_dir);
  return blocked.map((d) => {
    const volume = d.wantedVolume as string;
    const entry = registry.byBarcode.get(volume);
    const k = entry ? known.get(entry.magazine) : undefined;
    const number = entry ? registry.magazines.get(entry.magazine) : undefined;
    const attached = k?.attached ?? false;
    const noRoom = attached ? roomProblem(ctx, k?.bay) : undefined;
    return {
      volume,
      drive: d.drive,
      jobs: d.jobs,
      attached,
      ...(noRoom ? { noRoom } : {}),
      ...(entry
        ? {
            slot: entry.slot,
            magazine: knownMagazineRef(entry.magazine, number, k),
          }
        : {}),
    };
  });
}

/** Why the bay's mounted filesystem has no room for the run-as user; nothing is mounted by it. */
function roomProblem(
  ctx: ChangerContext,
  bay: number | undefined,
): string | undefined {
  const path = bay ? ctx.config.magazine[bay - 1]?.path : undefined;
  if (!path) return undefined;
  const mounts = ctx.sys.mounts();
  const at = resolve(path);
  if (!mounts.some((m) => m.mountPoint === at && m.fsType !== "autofs"))
    return undefined;
  return noRoomFor(at, mounts, ctx.config.user);
}

/**
 * Was a volume-needed event for volume queued (by a failed load) within this wait, still pending
 * or already delivered? Event names start with their time: only recent ones are read.
 */
function alreadyQueued(
  workDir: string,
  volume: string,
  now: Date,
  endedAt: string | undefined,
): boolean {
  const since = Math.max(
    now.getTime() - SAME_WAIT_MS,
    endedAt ? Date.parse(endedAt) : 0,
  );
  for (const dir of [eventsDir(workDir), join(eventsDir(workDir), SENT_DIR)]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const queued = /^(\d{15})-\d+-\d+\.json$/.exec(name)?.[1];
      if (queued === undefined || Number(queued) < Date.now() - SAME_WAIT_MS)
        continue;
      const event = readEventFile(join(dir, name));
      if (
        event?.kind === "volume-needed" &&
        event.volume === volume &&
        Date.parse(event.at) > since
      )
        return true;
    }
  }
  return false;
}

/**
 * Queues a volume-needed event for each wait on a disk in the drawer not told yet, and forgets
 * waits that ended. Writes wanted.json only when that list changes. Never throws: this runs
 * beside refresh and status, whose own work must not fail because of it.
 */
export function noteWaitingVolumes(
  ctx: ChangerContext,
  waits: WaitedVolume[],
  now = new Date(),
): void {
  const workDir = ctx.config.work_dir;
  try {
    const told = readWanted(workDir);
    const next: Wanted = { volumes: {}, ended: {} };
    for (const w of waits) {
      if (!w.magazine || w.slot === undefined) continue;
      // In a bay: refresh resumes it, unless its disk has no room for the run-as user.
      if (w.attached && !w.noRoom) continue;
      const since = told.volumes[w.volume];
      if (since) {
        next.volumes[w.volume] = since;
        continue;
      }
      next.volumes[w.volume] = now.toISOString();
      if (w.noRoom) {
        enqueueEvent(
          workDir,
          {
            kind: "magazine-full",
            volume: w.volume,
            magazine: w.magazine,
            jobs: w.jobs,
            detail: w.noRoom,
            at: now.toISOString(),
          },
          ctx.log,
        );
        continue;
      }
      if (alreadyQueued(workDir, w.volume, now, told.ended[w.volume])) continue;
      enqueueEvent(
        workDir,
        {
          kind: "volume-needed",
          volume: w.volume,
          slot: w.slot,
          magazine: w.magazine,
          at: now.toISOString(),
        },
        ctx.log,
      );
    }
    const recent = now.getTime() - SAME_WAIT_MS;
    for (const [volume, at] of Object.entries(told.ended))
      if (!(volume in next.volumes) && Date.parse(at) > recent)
        next.ended[volume] = at;
    for (const volume of Object.keys(told.volumes))
      if (!(volume in next.volumes)) next.ended[volume] = now.toISOString();
    if (JSON.stringify(next) !== JSON.stringify(told))
      writeFileAtomic(
        wantedPath(workDir),
        `${JSON.stringify({ version: 1, ...next })}\n`,
      );
  } catch (error) {
    ctx.log.warn(
      `cannot record the volumes Bacula waits for: ${(error as Error).message}`,
    );
  }
}

/**
 * The timer's `refresh --if-pending` with nothing pending: a job that began waiting for a disk in
 * the drawer since the last refresh is told within one timer period. One bounded bconsole call
 * (`status storage`; a second, `list volumes`, only for a wait for space not told yet), no bay
 * scanned (attached or not comes from magazines.json), no lock; only when a [notify] command
 * would tell someone. A failure is logged: the timer's work is the retry.
 */
export async function noteWaitsFromStorage(ctx: ChangerContext): Promise<void> {
  if (
    !ctx.config.notify?.command.length ||
    ctx.config.legacy?.bconsole_disabled
  )
    return;
  try {
    const status = await readStorageStatus(ctx.config, ctx.sys.exec);
    noteWaitingVolumes(ctx, waitedVolumes(ctx, status));
    if (status.length > 0) await noteSpaceWaitsFromStatus(ctx, status);
  } catch (error) {
    ctx.log.warn(
      `cannot read what the storage daemon waits for: ${(error as Error).message}`,
    );
  }
}
