// The slot registry: which volume holds which slot, for as long as the volume exists (DESIGN
// property 1). Slots of absent magazines are kept, so a disk swap never renumbers anything. A
// volume that disappears from a present magazine leaves a *retired* slot that is not reused
// until Bacula has been told (refresh drops it); only free numbers are ever handed out.
//
// Text, one entry a line, because `list` parses it on every call (100k volumes: a few ms):
//   magchanger-registry 1
//   M <magazine uuid> <magazine number>
//   S <slot> <magazine uuid> <barcode>
//   R <slot> <barcode>                       retired, awaiting a Bacula update
//   I <magazine uuid> <uri-encoded name>     a non-volume file already reported in the log
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  describeErrno,
  errnoCode,
  StateCorruptError,
  StateWriteError,
} from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";

export interface SlotEntry {
  slot: number;
  magazine: string;
  barcode: string;
}

export interface Registry {
  slots: Map<number, SlotEntry>;
  byBarcode: Map<string, SlotEntry>;
  retired: Map<number, string>;
  magazines: Map<string, number>;
  ignored: Set<string>;
}

const HEADER = "magchanger-registry 1";

export function registryPath(workDir: string): string {
  return join(workDir, "slots");
}

export function emptyRegistry(): Registry {
  return {
    slots: new Map(),
    byBarcode: new Map(),
    retired: new Map(),
    magazines: new Map(),
    ignored: new Set(),
  };
}

export function readRegistry(workDir: string): Registry {
  const path = registryPath(workDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return emptyRegistry();
    throw new StateWriteError(`cannot read ${path}: ${describeErrno(error)}`, {
      cause: error,
    });
  }
  return parseRegistry(text, path);
}

export function parseRegistry(text: string, path: string): Registry {
  const registry = emptyRegistry();
  const { slots, byBarcode } = registry;
  const first = text.indexOf("\n");
  if ((first < 0 ? text : text.slice(0, first)) !== HEADER)
    corrupt(path, 1, "missing header");
  // One indexOf pass instead of split("\n") and split(" ") per line: `list` parses this on every
  // call, and at 100,000 volumes the per-line arrays and strings were most of its memory and time.
  // The magazine uuid repeats on every line: entries share one string per run of equal uuids.
  let uuid = "";
  let lineNo = 1;
  for (let pos = first < 0 ? text.length : first + 1; pos < text.length;) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    lineNo++;
    // Fast path: "S slot uuid barcode", exactly four fields. Anything else goes the slow way.
    let a = -1;
    let b = -1;
    let c = -1;
    if (text.charCodeAt(pos) === 83 && text.charCodeAt(pos + 1) === 32) {
      a = text.indexOf(" ", pos + 2);
      if (a > pos + 2 && a < end) b = text.indexOf(" ", a + 1);
      if (b > a + 1 && b + 1 < end) c = text.indexOf(" ", b + 1);
    }
    if (b > a + 1 && b + 1 < end && (c < 0 || c > end)) {
      const slot = parseDigits(text, pos + 2, a, path, lineNo);
      if (b - a - 1 !== uuid.length || !text.startsWith(uuid, a + 1))
        uuid = text.slice(a + 1, b);
      const entry = { slot, magazine: uuid, barcode: text.slice(b + 1, end) };
      const before = slots.size;
      slots.set(slot, entry);
      byBarcode.set(entry.barcode, entry);
      if (slots.size === before || byBarcode.size === before)
        corrupt(path, lineNo, "duplicate slot or barcode");
    } else if (end > pos) {
      parseOtherLine(registry, text.slice(pos, end), path, lineNo);
    }
    pos = end + 1;
  }
  return registry;
}

/** A slot number: plain decimal digits read in place; anything else as Number() reads it. */
function parseDigits(
  text: string,
  from: number,
  to: number,
  path: string,
  lineNo: number,
): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9 || i - from > 14)
      return parseSlot(text.slice(from, to), path, lineNo - 1);
    n = n * 10 + digit;
  }
  return n >= 1 ? n : parseSlot(text.slice(from, to), path, lineNo - 1);
}

/** Every line but a well-formed S line: R, M, I, and what is corrupt. */
function parseOtherLine(
  registry: Registry,
  line: string,
  path: string,
  lineNo: number,
): void {
  const i = lineNo - 1;
  const f = line.split(" ");
  const kind = f[0];
  if (kind === "S" && f.length === 4) {
    const slot = parseSlot(f[1], path, i);
    const entry = { slot, magazine: f[2] as string, barcode: f[3] as string };
    if (registry.slots.has(slot) || registry.byBarcode.has(entry.barcode))
      corrupt(path, lineNo, "duplicate slot or barcode");
    registry.slots.set(slot, entry);
    registry.byBarcode.set(entry.barcode, entry);
  } else if (kind === "R" && f.length === 3) {
    registry.retired.set(parseSlot(f[1], path, i), f[2] as string);
  } else if (kind === "M" && f.length === 3) {
    registry.magazines.set(f[1] as string, parseSlot(f[2], path, i));
  } else if (kind === "I" && f.length === 3) {
    registry.ignored.add(`${f[1]}/${decodeURIComponent(f[2] as string)}`);
  } else {
    corrupt(path, lineNo, `unexpected "${line.slice(0, 60)}"`);
  }
}

function parseSlot(
  field: string | undefined,
  path: string,
  index: number,
): number {
  const n = Number(field);
  if (!Number.isSafeInteger(n) || n < 1)
    corrupt(path, index + 1, `bad number "${field}"`);
  return n;
}

function corrupt(path: string, line: number, what: string): never {
  throw new StateCorruptError(
    `slot registry ${path} line ${line} is corrupt (${what}); nothing was changed: restore it from backup or move it aside (slots will be renumbered)`,
  );
}

export function serializeRegistry(registry: Registry): string {
  const out: string[] = [HEADER];
  for (const [uuid, number] of registry.magazines)
    out.push(`M ${uuid} ${number}`);
  const slots = [...registry.slots.values()].sort((a, b) => a.slot - b.slot);
  for (const e of slots) out.push(`S ${e.slot} ${e.magazine} ${e.barcode}`);
  for (const [slot, barcode] of [...registry.retired].sort(
    (a, b) => a[0] - b[0],
  ))
    out.push(`R ${slot} ${barcode}`);
  for (const key of registry.ignored) {
    const cut = key.indexOf("/");
    out.push(
      `I ${key.slice(0, cut)} ${encodeURIComponent(key.slice(cut + 1))}`,
    );
  }
  return `${out.join("\n")}\n`;
}

export function writeRegistry(workDir: string, registry: Registry): void {
  writeFileAtomic(registryPath(workDir), serializeRegistry(registry));
}

/** The slot count Bacula sees: every live or retired slot, so nothing it knows falls off the end. */
export function slotCount(registry: Registry): number {
  let max = 0;
  for (const slot of registry.slots.keys()) if (slot > max) max = slot;
  for (const slot of registry.retired.keys()) if (slot > max) max = slot;
  return max;
}

/** Hands out `count` free slot numbers, lowest first (holes Bacula was told about, then new). */
export function allocateSlots(registry: Registry, count: number): number[] {
  const result: number[] = [];
  for (let slot = 1; result.length < count; slot++) {
    if (!registry.slots.has(slot) && !registry.retired.has(slot))
      result.push(slot);
  }
  return result;
}

export function addVolume(registry: Registry, entry: SlotEntry): void {
  registry.slots.set(entry.slot, entry);
  registry.byBarcode.set(entry.barcode, entry);
}

export function retireVolume(registry: Registry, entry: SlotEntry): void {
  registry.slots.delete(entry.slot);
  registry.byBarcode.delete(entry.barcode);
  registry.retired.set(entry.slot, entry.barcode);
}

export function nextMagazineNumber(registry: Registry): number {
  let max = 0;
  for (const n of registry.magazines.values()) if (n > max) max = n;
  return max + 1;
}

export interface SlotLookup {
  /** The slot count Bacula sees (as slotCount). */
  count: number;
  entry?: SlotEntry;
  /** The barcode whose removal retired this slot. */
  retired?: string;
  /** The number of entry's magazine. */
  magazineNumber?: number;
}

/**
 * One slot, for `load`: a single pass over the registry text that builds no maps (at 100,000
 * volumes a full parse is ~100 ms of a load). The full parser stays the judge of corruption:
 * a malformed file is handed to it, and it throws.
 */
export function lookupSlot(workDir: string, slot: number): SlotLookup {
  const path = registryPath(workDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { count: 0 };
    throw new StateWriteError(`cannot read ${path}: ${describeErrno(error)}`, {
      cause: error,
    });
  }
  if (!text.startsWith(`${HEADER}\n`)) parseRegistry(text, path);
  const result: SlotLookup = { count: 0 };
  const magazines = new Map<string, number>();
  let line = 0;
  for (let start = HEADER.length + 1; start < text.length;) {
    line++;
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const kind = text.charCodeAt(start);
    if ((kind === 83 || kind === 82) && text.charCodeAt(start + 1) === 32) {
      // "S slot uuid barcode" or "R slot barcode"
      const space = text.indexOf(" ", start + 2);
      const n = Number(
        text.slice(start + 2, space < 0 || space > end ? end : space),
      );
      if (!Number.isSafeInteger(n) || n < 1)
        return fromFullParse(text, path, slot);
      if (n > result.count) result.count = n;
      if (n === slot) {
        const fields = text.slice(start, end).split(" ");
        if (kind === 83 && fields.length === 4) {
          result.entry = {
            slot,
            magazine: fields[2] as string,
            barcode: fields[3] as string,
          };
        } else if (kind === 82 && fields.length === 3) {
          result.retired = fields[2] as string;
        } else {
          return fromFullParse(text, path, slot);
        }
      }
    } else if (kind === 77) {
      const [, uuid, number] = text.slice(start, end).split(" ");
      if (uuid && number) magazines.set(uuid, Number(number));
    }
    start = end + 1;
  }
  if (result.entry) {
    const number = magazines.get(result.entry.magazine);
    if (number !== undefined) result.magazineNumber = number;
  }
  return result;
}

function fromFullParse(text: string, path: string, slot: number): SlotLookup {
  const registry = parseRegistry(text, path);
  const result: SlotLookup = { count: slotCount(registry) };
  const entry = registry.slots.get(slot);
  if (entry) {
    result.entry = entry;
    const number = registry.magazines.get(entry.magazine);
    if (number !== undefined) result.magazineNumber = number;
  }
  const retired = registry.retired.get(slot);
  if (retired !== undefined) result.retired = retired;
  return result;
}
