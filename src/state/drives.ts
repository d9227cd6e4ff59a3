// Drive state: which slot each drive holds. This small file is the authority `loaded` reads on
// every volume open; the drive symlinks (each Device's Archive Device) are derived from it and
// repaired under the lock. Write order makes a crash harmless: on load the symlink is switched
// before the state says "loaded", on unload the state says "empty" before the symlink goes.
import { join } from "node:path";
import { StateCorruptError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { readStateText } from "./read-state.ts";
import { BARCODE, crc32Hex, MAX_SLOT } from "./registry-text.ts";

/** 64 drives of a few hundred bytes each: anything larger is not ours. */
export const MAX_DRIVES_BYTES = 64 * 1024;

export interface LoadedDrive {
  slot: number;
  magazine: string;
  barcode: string;
  /** What the drive symlink points at: MOUNT/.magchanger-UUID/../BARCODE. */
  target: string;
}

/** drives[i] is drive i; undefined = empty. */
export type DriveState = (LoadedDrive | undefined)[];

export function drivesPath(workDir: string): string {
  return join(workDir, "drives.json");
}

/** The Archive Device of drive N. */
export function driveLinkPath(workDir: string, drive: number): string {
  return join(workDir, `drive${drive}`);
}

/**
 * Where an empty drive's symlink points: below /dev/null, a path no open(O_CREAT) can create,
 * so a storage daemon that opens an empty drive gets an error instead of writing a stray file.
 */
export function emptyDriveTarget(drive: number): string {
  return `/dev/null/magchanger-drive-${drive}-is-empty`;
}

export function readDrives(workDir: string): DriveState {
  const path = drivesPath(workDir);
  const text = readStateText(
    path,
    "drive state",
    MAX_DRIVES_BYTES,
    "remove it to mark every drive empty",
  );
  return text === undefined ? [] : parseDrives(text, path);
}

export function parseDrives(text: string, path: string): DriveState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return corrupt(path, "not JSON");
  }
  if (
    !isRecord(data) ||
    (data.version !== 1 && data.version !== 2) ||
    !Array.isArray(data.drives)
  )
    return corrupt(path, "unknown format");
  // Version 2 carries the CRC-32 of its drives array: a flipped digit in a slot would
  // otherwise make `loaded` report another slot (version 1 came from 0.1, without it).
  if (data.version === 2 && data.crc !== drivesCrc(data.drives))
    return corrupt(path, "checksum mismatch: edited or damaged");
  const state: DriveState = [];
  for (const item of data.drives) {
    if (
      !isRecord(item) ||
      !Number.isInteger(item.drive) ||
      (item.drive as number) < 0 ||
      (item.drive as number) > 63
    ) {
      return corrupt(path, "bad drive entry");
    }
    const drive = item.drive as number;
    if (item.slot === 0) {
      state[drive] = undefined;
      continue;
    }
    if (drive in state) return corrupt(path, `drive ${drive} listed twice`);
    if (
      !Number.isInteger(item.slot) ||
      (item.slot as number) < 1 ||
      (item.slot as number) > MAX_SLOT ||
      typeof item.magazine !== "string" ||
      typeof item.barcode !== "string" ||
      !BARCODE.test(item.barcode) ||
      typeof item.target !== "string" ||
      !isVolumeTarget(item.target, item.magazine, item.barcode)
    ) {
      return corrupt(path, `bad entry for drive ${drive}`);
    }
    const other = state.findIndex((d) => d?.slot === item.slot);
    if (other >= 0)
      return corrupt(path, `slot ${item.slot} in drives ${other} and ${drive}`);
    state[drive] = {
      slot: item.slot as number,
      magazine: item.magazine,
      barcode: item.barcode,
      target: item.target,
    };
  }
  return state;
}

export function writeDrives(
  workDir: string,
  state: DriveState,
  driveCount: number,
): void {
  const drives = [];
  for (let drive = 0; drive < Math.max(driveCount, state.length); drive++) {
    const loaded = state[drive];
    drives.push(loaded ? { drive, ...loaded } : { drive, slot: 0 });
  }
  writeFileAtomic(
    drivesPath(workDir),
    `${JSON.stringify({ version: 2, crc: drivesCrc(drives), drives }, null, 1)}\n`,
  );
}

function drivesCrc(drives: unknown): string {
  return crc32Hex(JSON.stringify(drives));
}

/**
 * A loaded drive's link target has one shape, MOUNT/.magchanger-UUID/../BARCODE (it resolves
 * only while that disk is mounted there): anything else (/etc/passwd) is not ours.
 */
function isVolumeTarget(
  target: string,
  magazine: string,
  barcode: string,
): boolean {
  const tail = `/.magchanger-${magazine}/../${barcode}`;
  return (
    target.startsWith("/") && target.endsWith(tail) && !/[\0\n]/.test(target)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function corrupt(path: string, what: string): never {
  throw new StateCorruptError(
    `drive state ${path} is corrupt (${what}); nothing was changed: remove it to mark every drive empty`,
  );
}
