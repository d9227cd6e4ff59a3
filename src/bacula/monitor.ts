// What `magchanger check` (Nagios/Icinga) and `status --prometheus` report: the work dir's own
// record (slot registry, magazines.json, refresh.json, the event queue's file names), the space
// of attached disks where measuring it mounts nothing (monitor-space.ts), and, unless told not
// to, one bounded `status storage` for the jobs that wait. No lock, no bay scan, nothing written:
// both run every minute beside the storage daemon's changer calls.
import type { ChangerContext } from "../changer/context.ts";
import { readKnownMagazines } from "../changer/known-magazines.ts";
import type { RotationConfig } from "../changer/rotation.ts";
import { pendingEventIds } from "../events/queue.ts";
import type { EventMagazine } from "../events/types.ts";
import { readRegistry } from "../state/registry.ts";
import { type MagazineSpace, magazineSpace } from "./monitor-space.ts";
import { readState } from "./refresh-state.ts";
import {
  type DriveJob,
  type DriveStatus,
  readStorageStatus,
} from "./sd-status.ts";
import { waitedVolumes } from "./waiting.ts";

export interface MonitoredMagazine {
  number: number;
  uuid: string;
  name?: string;
  label?: string;
  volumes: number;
  /** In a bay, as the last refresh (or init) recorded it. */
  attached: boolean;
  bay?: number;
  attachedAt?: string;
  removedAt?: string;
  space?: MagazineSpace;
  /** Why space is missing for an attached magazine. */
  unmeasured?: string;
}

/** A drive the storage daemon holds until a volume comes. */
export interface MonitoredWait {
  drive: number | null;
  jobs: DriveJob[];
  /** The volume it names; none: any appendable volume of its pool. */
  volume?: string;
  magazine?: EventMagazine;
  /** The volume's magazine is in a bay: the next refresh lets the job go on. */
  attached: boolean;
}

export interface MonitorFacts {
  changer: string;
  now: Date;
  volumes: number;
  magazines: MonitoredMagazine[];
  /** Bacula heard of the changer through at least one successful refresh. */
  told: boolean;
  /** When the update that did not finish (or is under way) began. */
  refreshPendingSince?: string;
  queuedEvents: number;
  oldestQueuedAt?: Date;
  /** A [notify] command delivers the events (without one they stay queued by design). */
  notify: boolean;
  /** [rotation]'s limits: a magazine past one is a WARNING (changer/rotation.ts says when). */
  rotation?: RotationConfig;
  /** undefined: the storage daemon was not asked. */
  storage?: { waits: MonitoredWait[] } | { error: string };
}

export interface MonitorOptions {
  /** Ask the storage daemon (`status storage` through bconsole) what its drives wait for. */
  askStorage: boolean;
  /** At most this long for bconsole, when shorter than [bacula] timeout. */
  timeoutSeconds?: number;
  now?: Date;
}

export async function monitorFacts(
  ctx: ChangerContext,
  options: MonitorOptions,
): Promise<MonitorFacts> {
  const { config } = ctx;
  const now = options.now ?? new Date();
  const registry = readRegistry(config.work_dir);
  const known = readKnownMagazines(config.work_dir);
  const refresh = readState(ctx);
  const volumes = new Map<string, number>();
  for (const e of registry.slots.values())
    volumes.set(e.magazine, (volumes.get(e.magazine) ?? 0) + 1);
  const magazines: MonitoredMagazine[] = [];
  for (const [uuid, number] of registry.magazines) {
    const k = known.get(uuid);
    const m: MonitoredMagazine = {
      number,
      uuid,
      volumes: volumes.get(uuid) ?? 0,
      attached: k?.attached ?? false,
    };
    if (k?.name !== undefined) m.name = k.name;
    if (k?.label !== undefined) m.label = k.label;
    if (k?.bay !== undefined) m.bay = k.bay;
    if (k?.attachedAt !== undefined) m.attachedAt = k.attachedAt;
    if (k?.removedAt !== undefined) m.removedAt = k.removedAt;
    if (m.attached && m.bay !== undefined) {
      const space = await magazineSpace(ctx, m.bay, uuid);
      if (typeof space === "string") m.unmeasured = space;
      else m.space = space;
    }
    magazines.push(m);
  }
  magazines.sort((a, b) => a.number - b.number);
  const queued = pendingEventIds(config.work_dir);
  // An event's name starts with the milliseconds it was queued at (events/queue.ts).
  const oldest =
    queued[0] === undefined ? Number.NaN : Number(queued[0].slice(0, 15));
  return {
    changer: config.name,
    now,
    volumes: registry.slots.size,
    magazines,
    told: refresh.told !== "",
    ...(refresh.pending ? { refreshPendingSince: refresh.pending.since } : {}),
    queuedEvents: queued.length,
    ...(Number.isNaN(oldest) ? {} : { oldestQueuedAt: new Date(oldest) }),
    notify: (config.notify?.command.length ?? 0) > 0,
    ...(config.rotation ? { rotation: config.rotation } : {}),
    ...(await storageFacts(ctx, options)),
  };
}

async function storageFacts(
  ctx: ChangerContext,
  options: MonitorOptions,
): Promise<Pick<MonitorFacts, "storage">> {
  if (!options.askStorage || ctx.config.legacy?.bconsole_disabled) return {};
  const bacula = { ...ctx.config.bacula };
  if (options.timeoutSeconds !== undefined)
    bacula.timeout = Math.min(bacula.timeout, options.timeoutSeconds);
  let drives: DriveStatus[];
  try {
    drives = await readStorageStatus({ ...ctx.config, bacula }, ctx.sys.exec);
  } catch (error) {
    return { storage: { error: (error as Error).message } };
  }
  const named = waitedVolumes(ctx, drives);
  const waits: MonitoredWait[] = named.map((w) => ({
    drive: w.drive,
    jobs: w.jobs,
    volume: w.volume,
    attached: w.attached,
    ...(w.magazine ? { magazine: w.magazine } : {}),
  }));
  for (const d of drives)
    if (d.state === "blocked-mount" && d.wantedVolume === undefined)
      waits.push({ drive: d.drive, jobs: d.jobs, attached: false });
  return { storage: { waits } };
}

/** Jobs held by the waits: a blocked drive whose job the SD did not list still holds one. */
export function waitingJobs(waits: MonitoredWait[]): number {
  return waits.reduce((n, w) => n + Math.max(1, w.jobs.length), 0);
}
