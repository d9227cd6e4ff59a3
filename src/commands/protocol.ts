// Runs one Bacula changer protocol command. Shared by `magchanger changer ...` and the vchanger
// positional form. Success prints only protocol lines on stdout and nothing on stderr (the
// storage daemon merges the two); failures throw, main.ts prints one line and exits non-zero.
import type { ChangerContext } from "../changer/context.ts";
import { cachedListing, storeListing } from "../changer/listing-cache.ts";
import { formatList, formatListAll, formatSlots } from "../changer/protocol.ts";
import { loadSlot, transferSlot, unloadDrive } from "../changer/moves.ts";
import { loadedSlot, scanChanger, withLock } from "../changer/operations.ts";
import { readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { AppError, StateWriteError, UsageError } from "../errors.ts";
import { driveLinkPath } from "../state/drives.ts";
import { writeProtocol } from "../system/fd-write.ts";

export const PROTOCOL_COMMANDS = [
  "loaded",
  "load",
  "unload",
  "list",
  "listall",
  "slots",
  "transfer",
] as const;
export type ProtocolCommand = (typeof PROTOCOL_COMMANDS)[number];

export function isProtocolCommand(name: string): name is ProtocolCommand {
  return (PROTOCOL_COMMANDS as readonly string[]).includes(name);
}

function parseIndex(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d{1,6}$/.test(value)) {
    throw new UsageError(
      `${what} must be a number, got ${value === undefined ? "nothing" : `"${value.slice(0, 40)}"`}`,
    );
  }
  return Number(value);
}

/**
 * The drive index: %d, or, when an empty expansion shifted the arguments, the Archive Device
 * matched against WORK_DIR/driveN. Without either, drive 0.
 */
export function resolveDrive(
  ctx: ChangerContext,
  device: string | undefined,
  drive: string | undefined,
): number {
  if (drive !== undefined && drive !== "")
    return parseIndex(drive, "drive index");
  if (device !== undefined) {
    if (/^\d{1,3}$/.test(device)) return Number(device);
    const workDir = ctx.config.work_dir;
    for (let d = 0; d < ctx.config.drives; d++) {
      // magchanger's WORK_DIR/driveN, and vchanger 1.0's WORK_DIR/N and 0.8's WORK_DIR/N/driveN
      if (
        device === driveLinkPath(workDir, d) ||
        device === join(workDir, String(d)) ||
        device === join(workDir, String(d), `drive${d}`)
      )
        return d;
    }
  }
  return 0;
}

/**
 * A load lets the storage daemon open its Archive Device (%a) for writing: it must be this
 * drive's link, or a link to it (vchanger's WORK_DIR/N and WORK_DIR/N/driveN). Anything else is
 * a path outside every magazine, where Label Media would create a volume file (seen on 9.6.7).
 */
export function checkArchiveDevice(
  ctx: ChangerContext,
  drive: number,
  device: string | undefined,
): void {
  const link = driveLinkPath(ctx.config.work_dir, drive);
  // No %a at all, or an empty one that shifted %d into its place: nothing to check.
  if (device === undefined || device === "" || /^\d{1,3}$/.test(device)) return;
  let at = resolve(device);
  for (let hop = 0; hop < 3 && at !== link; hop++) {
    try {
      at = resolve(dirname(at), readlinkSync(at));
    } catch {
      break;
    }
  }
  if (at === link || sameDirEntry(device, link)) return;
  throw new AppError(
    `drive ${drive}: the storage daemon's Archive Device is ${device}, not this changer's drive link; set Archive Device = ${link} in the Device with Drive Index = ${drive} (bacula-sd.conf) and restart bacula-sd`,
  );
}

/** The same name in the same directory, however each directory's path is spelled. */
function sameDirEntry(a: string, b: string): boolean {
  try {
    return (
      basename(a) === basename(b) &&
      realpathSync(dirname(a)) === realpathSync(dirname(b))
    );
  } catch {
    return false;
  }
}

export async function runProtocol(
  ctx: ChangerContext,
  command: ProtocolCommand,
  args: string[],
): Promise<void> {
  const started = performance.now();
  const call = `changer ${command} ${args.slice(0, 3).join(" ")}`;
  try {
    await dispatch(ctx, command, args);
  } catch (error) {
    ctx.log.error(`${call}: ${(error as Error).message}`);
    // Loaded only on failure: loaded, list and a successful load pay nothing for events.
    if (error instanceof StateWriteError)
      (await import("../events/emit.ts")).noteStateWriteFailure(
        ctx.config.work_dir,
        error,
        ctx.log,
      );
    throw error;
  }
  ctx.log.debug(`${call}: ok (${(performance.now() - started).toFixed(1)} ms)`);
}

async function dispatch(
  ctx: ChangerContext,
  command: ProtocolCommand,
  args: string[],
): Promise<void> {
  const [slotArg, device, driveArg] = args;
  switch (command) {
    case "loaded":
      writeProtocol(
        `${loadedSlot(ctx, resolveDrive(ctx, device, driveArg))}\n`,
      );
      return;
    case "load": {
      const drive = resolveDrive(ctx, device, driveArg);
      checkArchiveDevice(ctx, drive, device);
      await loadSlot(ctx, parseIndex(slotArg, "slot"), drive);
      return;
    }
    case "unload": {
      const slot =
        slotArg !== undefined && /^\d+$/.test(slotArg)
          ? Number(slotArg)
          : undefined;
      await unloadDrive(ctx, slot, resolveDrive(ctx, device, driveArg));
      return;
    }
    case "transfer":
      // Bareos and Baculum pass the destination slot in the archive-device position (%a).
      await transferSlot(
        ctx,
        parseIndex(slotArg, "source slot"),
        parseIndex(device, "destination slot"),
      );
      return;
    case "list":
    case "listall":
    case "slots": {
      const cached = cachedListing(ctx, command);
      if (cached !== undefined) {
        writeProtocol(cached);
        return;
      }
      const answer = await withLock(ctx, async () => {
        const view = await scanChanger(ctx);
        const list = formatList(view);
        storeListing(ctx, view, list);
        if (command === "list") return list;
        return command === "slots"
          ? formatSlots(view)
          : formatListAll(view, ctx.config.drives);
      });
      writeProtocol(answer);
      return;
    }
  }
}
