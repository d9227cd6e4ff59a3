// vchanger 0.8's on-disk format, only ever read, so its magazines are adopted exactly as they are.
// Learned from vchanger 0.8.2..0.8.6 (diskchanger.cpp, changerstate.cpp):
// - MOUNT/index holds "CHANGER_NNNN": the changer's name, then the magazine number after the
//   last '_'. 0.8 ignores a magazine without it.
// - Volumes are CHANGER_MMMM_SSSS, SSSS = 1..slots_per_magazine; MMMM is the magazine number.
// - MOUNT/loadedN names the volume loaded into drive N (an empty line when none); while it is
//   loaded, that volume's file is renamed MOUNT/driveN.
// - In the work dir: WORK_DIR/N -> MOUNT (so the Archive Device is WORK_DIR/N/driveN), stateN,
//   nextmag and, from 0.8.6, bayN naming the `magazine` line last seen in bay N.
// - The slot of volume SSSS is (bay - 1) * slots_per_magazine + SSSS, where bay is the changer
//   bay holding the magazine: 0.8.6 remembers it in bayN, earlier versions gave bays to the
//   mounted magazines in config order.
import { join } from "node:path";
import type { MagazineConfig } from "../config/schema.ts";
import { errnoCode } from "../errors.ts";
import { readTextBounded } from "../state/safe-fs.ts";
import { printable, quoted } from "../text.ts";
import { describeDiskRead } from "./identity.ts";

/** index, loadedN and bayN hold one short line; a larger file is not vchanger's. */
export const LINE_FILE_MAX_BYTES = 4096;

/**
 * A one-line vchanger file, read as every file on a disk or in the run-as user's work dir is:
 * never through a link, never blocking on a FIFO, never more than a few KiB.
 */
function readLineFile(path: string): string {
  return (
    readTextBounded(path, { maxBytes: LINE_FILE_MAX_BYTES })
      .split("\n")[0]
      ?.trim() ?? ""
  );
}

const VCHANGER08_FILE = /^(?:index|loaded\d+|drive\d+)$/;

/** index, loadedN and driveN: vchanger 0.8's bookkeeping on a magazine, never volumes. */
export function isVchanger08File(name: string): boolean {
  return VCHANGER08_FILE.test(name);
}

export interface Vchanger08Index {
  changer: string;
  number: number;
  /** The file's text, trimmed, with control characters escaped (it is only ever shown). */
  text: string;
}

/**
 * MOUNT/index as vchanger 0.8 reads it; undefined when there is none, a string saying why when
 * it is not one vchanger wrote.
 */
export function readIndex(
  mountPoint: string,
): Vchanger08Index | string | undefined {
  const path = join(mountPoint, "index");
  let text: string;
  try {
    text = readLineFile(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    return `cannot read ${path}: ${describeDiskRead(error)}`;
  }
  const cut = text.lastIndexOf("_");
  const number = Number(/^\d{1,9}/.exec(text.slice(cut + 1))?.[0] ?? 0);
  if (cut < 1 || number < 1)
    return `${path} holds ${quoted(text.slice(0, 60))}, not vchanger's CHANGER_NNNN`;
  return { changer: text.slice(0, cut), number, text: printable(text) };
}

/** CHANGER_MMMM_SSSS -> its parts; undefined for any other name. */
export function parseVolumeName(
  name: string,
): { changer: string; magazine: number; volume: number } | undefined {
  const match = /^(.+)_(\d{1,9})_(\d{1,9})$/.exec(name);
  if (!match) return undefined;
  return {
    changer: match[1] as string,
    magazine: Number(match[2]),
    volume: Number(match[3]),
  };
}

/** The volume name MOUNT/loadedN gives, undefined for none, missing or unreadable. */
export function readLoaded(
  mountPoint: string,
  drive: number,
): string | undefined {
  try {
    return readLineFile(join(mountPoint, `loaded${drive}`)) || undefined;
  } catch {
    return undefined;
  }
}

/** Does a vchanger `magazine` line (as bayN records it) name this [[magazine]]? */
function sameMagazine(line: string, spec: MagazineConfig): boolean {
  if (/^uuid:/i.test(line))
    return (
      spec.uuid !== undefined &&
      line.slice(5).trim().toLowerCase() === spec.uuid.toLowerCase()
    );
  return (
    spec.path !== undefined && (line.replace(/\/+$/, "") || "/") === spec.path
  );
}

/**
 * The bay vchanger 0.8 gave this magazine, as its Initialize did: a WORK_DIR/bayN naming an
 * attached magazine keeps it there (0.8.6); the other attached magazines, in config order, fill
 * the remaining bays. `attached` lists every attached [[magazine]] in config order, this one
 * included. undefined when 0.8 had no bay for it, so its volumes had no slot in Bacula.
 */
export function vchanger08Bay(
  workDir: string,
  bays: number,
  spec: MagazineConfig,
  attached: MagazineConfig[],
): number | undefined {
  const held = new Map<number, MagazineConfig>();
  for (let bay = 1; bay <= bays; bay++) {
    let line: string;
    try {
      line = readLineFile(join(workDir, `bay${bay}`));
    } catch {
      continue;
    }
    const holder = line
      ? attached.find((s) => sameMagazine(line, s))
      : undefined;
    if (holder) held.set(bay, holder);
  }
  for (const [bay, holder] of held) if (holder === spec) return bay;
  const holders = new Set(held.values());
  const queue = attached.filter((s) => !holders.has(s));
  let rank = queue.indexOf(spec);
  for (let bay = 1; bay <= bays && rank >= 0; bay++) {
    if (held.has(bay)) continue;
    if (rank === 0) return bay;
    rank -= 1;
  }
  return undefined;
}
