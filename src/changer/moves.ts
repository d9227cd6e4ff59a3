// Moving volumes: load, unload and transfer, each under the changer lock. Write order makes a
// crash harmless: on load the link is switched before the state says "loaded" (and switched back
// if that write fails), on unload the state says "empty" before the link goes.
import { statSync } from "node:fs";
import { AppError, errnoCode } from "../errors.ts";
import { replaceSymlink } from "../state/atomic.ts";
import {
  type DriveState,
  driveLinkPath,
  emptyDriveTarget,
  readDrives,
  writeDrives,
} from "../state/drives.ts";
import {
  lookupSlot,
  readRegistry,
  type SlotLookup,
  slotCount,
  writeRegistry,
} from "../state/registry.ts";
import { UNWRITTEN_BYTES } from "../events/types.ts";
import type { ChangerContext } from "./context.ts";
import {
  checkDrive,
  checkDriveLinkPaths,
  syncDriveLinks,
  withLock,
} from "./operations.ts";

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
    const entry = slotVolume(found, slot);
    const target = await volumeFile(ctx, found, entry, slot);
    const previous = drives[drive];
    if (previous?.slot === slot && previous.target === target) {
      ctx.log.info(`load slot ${slot} drive ${drive}: already loaded`);
      return;
    }
    pointDrive(ctx, drives, drive, { slot, ...entry, target });
    ctx.log.info(
      `loaded slot ${slot} (${entry.barcode}, magazine ${found.magazineNumber ?? "?"}) into drive ${drive}` +
        (previous ? `, replacing slot ${previous.slot}` : ""),
    );
  });
}

/** The volume registered in slot, or the empty-slot error that says why there is none. */
function slotVolume(
  found: SlotLookup,
  slot: number,
): { magazine: string; barcode: string } {
  const entry = found.entry;
  if (entry) return { magazine: entry.magazine, barcode: entry.barcode };
  const gone = found.retired;
  throw emptySlot(
    slot,
    gone
      ? `volume ${gone} was removed from its magazine`
      : "no volume has this slot",
  );
}

/** The volume's file on its attached magazine; a magazine in the drawer is recorded as wanted. */
async function volumeFile(
  ctx: ChangerContext,
  found: SlotLookup,
  entry: { magazine: string; barcode: string },
  slot: number,
): Promise<string> {
  // Only a load needs disk discovery: imported here, its own code chunk (operations.ts).
  const [{ findMagazine }, { volumeTarget }] = await Promise.all([
    import("../disk/discover.ts"),
    import("../disk/identity.ts"),
  ]);
  const { mountPoint, unreadable } = await findMagazine(
    ctx.config,
    entry.magazine,
    ctx.sys,
  );
  const number = found.magazineNumber;
  if (!mountPoint && unreadable.length > 0)
    throw emptySlot(
      slot,
      `volume ${entry.barcode} is on magazine ${number ?? "?"}, which may be in a bay ${ctx.config.user} cannot look into (${unreadable.join("; ")}); let ${ctx.config.user}:${ctx.config.group} enter the bay (chown or chmod its top directory, as magazine init does) and retry`,
    );
  if (!mountPoint) {
    // Loaded only here: loaded, list and a successful load pay nothing for the record.
    (await import("./volume-needed.ts")).recordVolumeNeeded(
      ctx,
      found.entry as NonNullable<SlotLookup["entry"]>,
      number,
    );
    throw emptySlot(
      slot,
      `volume ${entry.barcode} is on magazine ${number ?? "?"}, which is not attached`,
    );
  }
  const target = volumeTarget(mountPoint, entry.magazine, entry.barcode);
  let size: number;
  try {
    const stats = statSync(target);
    if (!stats.isFile())
      throw emptySlot(slot, `${entry.barcode} is not a regular file`);
    size = stats.size;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw emptySlot(
      slot,
      `volume ${entry.barcode} is missing from magazine ${number ?? "?"} (${errnoCode(error)})`,
    );
  }
  // Only a volume no job wrote to pays for the look (loaded here, as the discovery above).
  const full =
    size <= UNWRITTEN_BYTES
      ? (await import("./full-magazine.ts")).noRoomFor(
          mountPoint,
          ctx.sys.mounts(),
          ctx.config.user,
        )
      : undefined;
  if (full)
    throw new AppError(
      `cannot load slot ${slot} (${entry.barcode}, never written) from magazine ${number ?? "?"} at ${mountPoint}: ${full}`,
    );
  return target;
}

/** Points drive's link at the volume, then records it; a failed record points the link back. */
function pointDrive(
  ctx: ChangerContext,
  drives: DriveState,
  drive: number,
  loaded: { slot: number; magazine: string; barcode: string; target: string },
): void {
  const { work_dir: workDir } = ctx.config;
  const previous = drives[drive];
  // Symlink first, state second: a crash in between leaves the state saying what it said before.
  const link = driveLinkPath(workDir, drive);
  replaceSymlink(link, loaded.target);
  drives[drive] = loaded;
  try {
    writeDrives(workDir, drives, ctx.config.drives);
  } catch (error) {
    // The state still says what it said before: point the link back too (an empty drive's
    // short link needs no data block on a full disk). If that fails, the next locked command
    // repairs the link from the state.
    drives[drive] = previous;
    try {
      replaceSymlink(link, previous?.target ?? emptyDriveTarget(drive));
    } catch {
      ctx.log.warn(
        `drive ${drive}: could not point ${link} back after a failed state write`,
      );
    }
    throw error;
  }
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
    // Checked before the state is written: a failure then leaves every file as it was.
    checkDriveLinkPaths(ctx);
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
