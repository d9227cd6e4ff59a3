// One slot of the registry without parsing it, for `load`: at 100,000 volumes the file is
// ~6 MiB, and any per-line pass (a regex, a slice, a map entry per volume) is most of a load.
// The answer comes from the bytes in place: the envelope is checked (header, end line, CRC-32
// of everything before the end line, over the bytes as read), and only then are the sorted S
// and R runs binary-searched. A matching CRC means serializeRegistry wrote these bytes, and it
// writes only what the parser accepts: M lines, then S lines by ascending slot, then R lines by
// ascending slot, then I lines, all ASCII. Anything that does not look exactly like that
// (version 1, a line out of place, a field that is not what the serializer writes) returns
// undefined and the caller runs the full parser, which judges and names the problem.
// The end line's entry count is not recounted here (that is a pass over every line): with the
// body vouched for by the CRC it adds nothing to this answer, and every scan (`list`, a locked
// command) still checks it through the full parser.
import { BARCODE, HEADER, type SlotEntry } from "./registry-text.ts";

const NL = 10;
const SPACE = 32;
const HEADER_BYTES = Buffer.from(`${HEADER}\n`);
const UUID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

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
 * The body's end (the offset of the end line) when the end line vouches for the bytes before
 * it, else -1: the full parser then says what is wrong (it names truncation and checksum).
 */
function vouchedBodyEnd(bytes: Buffer): number {
  const size = bytes.length;
  if (size < 2 || bytes[size - 1] !== NL) return -1;
  const last = bytes.lastIndexOf(NL, size - 2) + 1;
  if (last < HEADER_BYTES.length) return -1;
  const match = /^end (\d{1,8}) ([0-9a-f]{8})\n$/.exec(
    bytes.toString("latin1", last, size),
  );
  const crc = Bun.hash.crc32(bytes.subarray(0, last));
  return match && crc.toString(16).padStart(8, "0") === match[2] ? last : -1;
}

/** The slot number of the S or R line at `start`, or NaN when it is not serializer-shaped. */
function slotAt(bytes: Buffer, start: number): number {
  let n = 0;
  let i = start + 2;
  const first = i;
  for (; i < bytes.length && i - first <= 7; i++) {
    const c = bytes[i] as number;
    if (c === SPACE) break;
    const digit = c - 48;
    if (digit < 0 || digit > 9 || (i === first && digit === 0)) return NaN;
    n = n * 10 + digit;
  }
  return i > first && bytes[i] === SPACE ? n : NaN;
}

/** The start of the line holding `slot` in the sorted run [lo, hi) of whole lines, or -1. */
function search(bytes: Buffer, lo: number, hi: number, slot: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const start = Math.max(lo, bytes.lastIndexOf(NL, mid - 1) + 1);
    const n = slotAt(bytes, start);
    if (Number.isNaN(n)) throw new Unsure();
    if (n === slot) return start;
    if (n < slot) lo = bytes.indexOf(NL, start) + 1;
    else hi = start;
  }
  return -1;
}

/** A line the binary search met is not serializer-shaped. */
class Unsure extends Error {}

/** The fields of the line at start (without the newline). */
function fields(bytes: Buffer, start: number): string[] {
  return bytes.toString("latin1", start, bytes.indexOf(NL, start)).split(" ");
}

/** The last line's slot in the (non-empty) run [from, to). */
function lastSlot(bytes: Buffer, from: number, to: number): number {
  const n = slotAt(bytes, bytes.lastIndexOf(NL, to - 2) + 1);
  if (Number.isNaN(n)) throw new Unsure();
  return n;
}

/**
 * The answer for `slot` from a version 2 registry's bytes, or undefined when they are not
 * exactly what the serializer writes, damaged ones included (the caller then parses in full,
 * and the parser names the damage). Never throws.
 */
export function lookupInPlace(
  bytes: Buffer,
  slot: number,
): SlotLookup | undefined {
  if (!bytes.subarray(0, HEADER_BYTES.length).equals(HEADER_BYTES))
    return undefined;
  const bodyEnd = vouchedBodyEnd(bytes);
  if (bodyEnd < 0) return undefined;
  const head = HEADER_BYTES.length;
  try {
    // The S run is found from both ends (M lines before it, R and I lines after it are few),
    // so nothing but the CRC touches every byte.
    let startS = head;
    while (startS < bodyEnd && bytes[startS] === 77)
      startS = bytes.indexOf(NL, startS) + 1; // the M lines
    const hasS = bytes[startS] === 83 && startS < bodyEnd;
    const lastS = bytes.lastIndexOf("\nS ", bodyEnd - 1, "latin1") + 1;
    const endS = hasS ? bytes.indexOf(NL, Math.max(lastS, startS)) + 1 : startS;
    const tail = tailLines(bytes, endS, bodyEnd);
    const magazines = magazineLines(bytes, head, startS);
    if (!tail || !magazines) return undefined;
    const result: SlotLookup = {
      count: Math.max(
        hasS ? lastSlot(bytes, startS, endS) : 0,
        tail.maxRetired,
      ),
    };
    const at = search(bytes, startS, endS, slot);
    if (at >= 0) {
      if (bytes[at] !== 83) return undefined; // "S"
      const [, , magazine, barcode, extra] = fields(bytes, at);
      if (extra !== undefined || !UUID.test(magazine ?? "")) return undefined;
      if (!BARCODE.test(barcode ?? "")) return undefined;
      result.entry = {
        slot,
        magazine: magazine as string,
        barcode: barcode as string,
      };
      const number = magazines.get(result.entry.magazine);
      if (number !== undefined) result.magazineNumber = number;
    } else {
      const retired = tail.retired.get(slot);
      if (retired !== undefined) result.retired = retired;
    }
    return result;
  } catch {
    return undefined; // Unsure, or anything else unexpected: the full parser judges
  }
}

/**
 * The R and I lines after the S run, in the serializer's order (R by ascending slot, then I);
 * undefined when anything else is there. Bounded by what a refresh has not yet dropped.
 */
function tailLines(
  bytes: Buffer,
  from: number,
  to: number,
): { retired: Map<number, string>; maxRetired: number } | undefined {
  const retired = new Map<number, string>();
  let maxRetired = 0;
  let seenI = false;
  for (let at = from; at < to; at = bytes.indexOf(NL, at) + 1) {
    const kind = bytes[at];
    if (kind === 73 && bytes[at + 1] === SPACE) {
      seenI = true;
      continue;
    }
    if (kind !== 82 || seenI) return undefined;
    const n = slotAt(bytes, at);
    const [, , barcode, extra] = fields(bytes, at);
    if (
      !(n > maxRetired) ||
      extra !== undefined ||
      !BARCODE.test(barcode ?? "")
    )
      return undefined;
    retired.set(n, barcode as string);
    maxRetired = n;
  }
  return { retired, maxRetired };
}

/** The M lines before the S run as uuid -> number; undefined when anything else is there. */
function magazineLines(
  bytes: Buffer,
  from: number,
  to: number,
): Map<string, number> | undefined {
  const magazines = new Map<string, number>();
  if (to <= from) return magazines;
  for (const line of bytes.toString("latin1", from, to - 1).split("\n")) {
    const [kind, id, number, extra] = line.split(" ");
    if (
      kind !== "M" ||
      extra !== undefined ||
      !UUID.test(id ?? "") ||
      !/^[1-9]\d{0,3}$/.test(number ?? "") ||
      magazines.has(id as string)
    )
      return undefined;
    magazines.set(id as string, Number(number));
  }
  return magazines;
}
