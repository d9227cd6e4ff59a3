// The changer's commands over disk magazines. Every state change runs under the changer lock;
// `loaded` reads one small file without the lock (it is replaced atomically).
import {
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import {
  AppError,
  describeErrno,
  errnoCode,
  StateWriteError,
} from "../errors.ts";
import {
  locateMagazine,
  type MagazineStatus,
  probeAll,
} from "../magazine/discover.ts";
import { adoptVchangerMagazines } from "../magazine/adopt.ts";
import { volumeTarget } from "../magazine/identity.ts";
import { replaceSymlink } from "../state/atomic.ts";
import {
  type DriveState,
  driveLinkPath,
  emptyDriveTarget,
  readDrives,
  writeDrives,
} from "../state/drives.ts";
import { writeConfigCache } from "../config/cache.ts";
import { acquireLock } from "../state/lock.ts";
import {
  lookupSlot,
  type Registry,
  readRegistry,
  slotCount,
  writeRegistry,
} from "../state/registry.ts";
import { syncVchangerDriveLinks } from "../state/vchanger-drives.ts";
import type { ChangerContext } from "./context.ts";
import { reconcileRegistry } from "./reconcile.ts";

export interface ChangerView {
  registry: Registry;
  drives: DriveState;
  magazines: MagazineStatus[];
  /** uuid -> status, present magazines only. */
  present: Map<string, MagazineStatus>;
}

export function ensureWorkDir(ctx: ChangerContext): void {
  const dir = ctx.config.work_dir;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (error) {
    throw new StateWriteError(
      `cannot create work dir ${dir}: ${describeErrno(error)}; run \`magchanger setup -c ${ctx.config.source} --write\` as root or create it owned by ${ctx.config.user}:${ctx.config.group}`,
      { cause: error },
    );
  }
}

export async function withLock<T>(
  ctx: ChangerContext,
  action: () => Promise<T> | T,
): Promise<T> {
  ensureWorkDir(ctx);
  const lock = acquireLock(
    ctx.config.work_dir,
    ctx.config.lock_timeout,
    ctx.config.name,
  );
  try {
    removeDeadTempFiles(ctx.config.work_dir);
    if (ctx.loadedConfig && !ctx.loadedConfig.cached) {
      writeConfigCache(ctx.loadedConfig);
    }
    return await action();
  } finally {
    lock.release();
  }
}

/**
 * Every state write in the work dir happens under the lock, so a temp file seen while holding it
 * belongs to a writer that was killed mid-write: remove it.
 */
function removeDeadTempFiles(workDir: string): void {
  for (const name of readdirSync(workDir)) {
    if (name.startsWith(".") && /\.tmp-\d+-\d+$/.test(name)) {
      try {
        unlinkSync(join(workDir, name));
      } catch {
        // already gone
      }
    }
  }
}

export function checkDrive(ctx: ChangerContext, drive: number): void {
  const count = ctx.config.drives;
  if (!Number.isInteger(drive) || drive < 0 || drive >= count) {
    throw new AppError(
      `drive ${drive} is out of range: changer ${ctx.config.name} has drives 0..${count - 1} (config key drives)`,
    );
  }
}

/** Makes each drive symlink match the drive state (repairs a crash between the two writes). */
export function syncDriveLinks(ctx: ChangerContext, drives: DriveState): void {
  for (let drive = 0; drive < ctx.config.drives; drive++) {
    replaceSymlink(
      driveLinkPath(ctx.config.work_dir, drive),
      drives[drive]?.target ?? emptyDriveTarget(drive),
    );
  }
  const legacy = ctx.config.legacy?.vchanger;
  if (legacy)
    syncVchangerDriveLinks(ctx.config.work_dir, legacy, ctx.config.drives);
}

/** Reads state, scans the magazines and records new or vanished volumes. Call under the lock. */
export async function scanChanger(ctx: ChangerContext): Promise<ChangerView> {
  const registry = readRegistry(ctx.config.work_dir);
  const drives = readDrives(ctx.config.work_dir);
  const magazines = await probeAll(ctx.config, ctx.sys);
  // vchanger configs only: adopt vchanger's magazines as they are (src/magazine/adopt.ts).
  const adopted = adoptVchangerMagazines(ctx, registry, magazines);
  for (const m of magazines)
    if (!m.present)
      ctx.log.debug(`bay ${m.index} (${m.where}) absent: ${m.reason}`);
  const result = reconcileRegistry(registry, magazines, ctx.log);
  if (result.changed || adopted) writeRegistry(ctx.config.work_dir, registry);
  syncDriveLinks(ctx, drives);
  const present = new Map<string, MagazineStatus>();
  for (const m of magazines)
    if (m.present && m.identity) present.set(m.identity.uuid, m);
  return { registry, drives, magazines, present };
}

/** The slot in a drive, or 0. A drive whose magazine is not attached reads as empty. */
export function loadedSlot(ctx: ChangerContext, drive: number): number {
  if (drive >= ctx.config.drives) {
    // A drive the config does not have holds nothing. Failing here (as disk-changer does) makes
    // the SD treat the drive's slot as unknown on every volume open.
    ctx.log.warn(
      `loaded: drive ${drive} is not configured (drives = ${ctx.config.drives}); reporting empty: add it to ${ctx.config.source} or remove the Device`,
    );
    return 0;
  }
  checkDrive(ctx, drive);
  const state = readDrives(ctx.config.work_dir)[drive];
  if (!state) return 0;
  const link = driveLinkPath(ctx.config.work_dir, drive);
  try {
    if (readlinkSync(link) === state.target && statSync(link).isFile())
      return state.slot;
    ctx.log.warn(
      `drive ${drive}: ${link} does not point at ${state.target}; reporting empty`,
    );
  } catch (error) {
    ctx.log.info(
      `drive ${drive}: volume ${state.barcode} (slot ${state.slot}) is not reachable (${errnoCode(error)}): magazine absent, reporting empty`,
    );
  }
  return 0;
}

function emptySlot(slot: number, why: string): AppError {
  // Bareos retries a load whose output contains exactly this phrase.
  return new AppError(`Source Element Address ${slot} is Empty (${why})`);
}

function checkSlot(count: number, slot: number, what = "slot"): number {
  if (!Number.isInteger(slot) || slot < 1 || slot > count) {
    throw new AppError(
      count === 0
        ? `${what} ${slot} is out of range: the changer has no slots yet; run \`magchanger magazine init\``
        : `${what} ${slot} is out of range: the changer has slots 1..${count}`,
    );
  }
  return count;
}

export async function loadSlot(
  ctx: ChangerContext,
  slot: number,
  drive: number,
): Promise<void> {
  checkDrive(ctx, drive);
  await withLock(ctx, async () => {
    const { work_dir: workDir } = ctx.config;
    const found = lookupSlot(workDir, slot);
    const drives = readDrives(workDir);
    syncDriveLinks(ctx, drives);
    checkSlot(found.count, slot);
    const holder = drives.findIndex((d) => d?.slot === slot);
    if (holder >= 0 && holder !== drive) {
      throw new AppError(
        `slot ${slot} is already loaded in drive ${holder}; unload drive ${holder} first`,
      );
    }
    const entry = found.entry;
    if (!entry) {
      const gone = found.retired;
      throw emptySlot(
        slot,
        gone
          ? `volume ${gone} was removed from its magazine`
          : "no volume has this slot",
      );
    }
    const mountPoint = await locateMagazine(
      ctx.config,
      entry.magazine,
      ctx.sys,
    );
    const number = found.magazineNumber;
    if (!mountPoint)
      throw emptySlot(
        slot,
        `volume ${entry.barcode} is on magazine ${number ?? "?"}, which is not attached`,
      );
    const target = volumeTarget(mountPoint, entry.magazine, entry.barcode);
    try {
      if (!statSync(target).isFile())
        throw emptySlot(slot, `${entry.barcode} is not a regular file`);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw emptySlot(
        slot,
        `volume ${entry.barcode} is missing from magazine ${number ?? "?"} (${errnoCode(error)})`,
      );
    }
    const previous = drives[drive];
    if (previous?.slot === slot && previous.target === target) {
      ctx.log.info(`load slot ${slot} drive ${drive}: already loaded`);
      return;
    }
    // Symlink first, state second: a crash in between leaves the state saying what it said before.
    const link = driveLinkPath(workDir, drive);
    replaceSymlink(link, target);
    drives[drive] = {
      slot,
      magazine: entry.magazine,
      barcode: entry.barcode,
      target,
    };
    try {
      writeDrives(workDir, drives, ctx.config.drives);
    } catch (error) {
      // The state still says what it said before: point the link back too (an empty drive's
      // short link needs no data block on a full disk). If that fails, the next locked command
      // repairs the link from the state.
      try {
        replaceSymlink(link, previous?.target ?? emptyDriveTarget(drive));
      } catch {
        ctx.log.warn(
          `drive ${drive}: could not point ${link} back after a failed state write`,
        );
      }
      throw error;
    }
    ctx.log.info(
      `loaded slot ${slot} (${entry.barcode}, magazine ${number ?? "?"}) into drive ${drive}` +
        (previous ? `, replacing slot ${previous.slot}` : ""),
    );
  });
}

export async function unloadDrive(
  ctx: ChangerContext,
  slot: number | undefined,
  drive: number,
): Promise<void> {
  checkDrive(ctx, drive);
  await withLock(ctx, () => {
    const { work_dir: workDir } = ctx.config;
    const drives = readDrives(workDir);
    const current = drives[drive];
    if (!current) {
      syncDriveLinks(ctx, drives);
      ctx.log.info(`unload drive ${drive}: already empty`);
      return;
    }
    if (slot !== undefined && slot > 0 && slot !== current.slot) {
      ctx.log.warn(
        `unload drive ${drive}: Bacula named slot ${slot} but the drive holds slot ${current.slot}; unloading it`,
      );
    }
    // State first, symlink second: a crash in between leaves a drive that says empty.
    drives[drive] = undefined;
    writeDrives(workDir, drives, ctx.config.drives);
    replaceSymlink(driveLinkPath(workDir, drive), emptyDriveTarget(drive));
    ctx.log.info(
      `unloaded slot ${current.slot} (${current.barcode}) from drive ${drive}`,
    );
  });
}

/** Moves a volume to an unused slot (Bareos / Baculum `transfer`): renumbers, moves no data. */
export async function transferSlot(
  ctx: ChangerContext,
  source: number,
  destination: number,
): Promise<void> {
  await withLock(ctx, () => {
    const { work_dir: workDir } = ctx.config;
    const registry = readRegistry(workDir);
    const drives = readDrives(workDir);
    checkSlot(slotCount(registry), source, "source slot");
    checkSlot(slotCount(registry), destination, "destination slot");
    const entry = registry.slots.get(source);
    if (!entry) throw emptySlot(source, "no volume has this slot");
    if (source === destination) return;
    const holder = drives.findIndex((d) => d?.slot === source);
    if (holder >= 0)
      throw new AppError(
        `slot ${source} is loaded in drive ${holder}; unload it before a transfer`,
      );
    const occupant =
      registry.slots.get(destination)?.barcode ??
      registry.retired.get(destination);
    if (occupant)
      throw new AppError(
        `destination slot ${destination} is not empty: it belongs to volume ${occupant}`,
      );
    registry.slots.delete(source);
    entry.slot = destination;
    registry.slots.set(destination, entry);
    writeRegistry(workDir, registry);
    ctx.log.info(
      `transferred ${entry.barcode} from slot ${source} to slot ${destination}`,
    );
  });
}
