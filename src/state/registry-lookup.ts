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

/** Line starts: the first line of kind `k` (`\nK `) at or after `from`, before `to`, or -1. */
function firstLine(bytes: Buffer, kind: string, from: number, to: number) {
  const at = bytes.indexOf(`\n${kind} `, from - 1, "latin1");
  return at < 0 || at + 1 >= to ? -1 : at + 1;
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

/** The last line's slot in the run [from, to), 0 when the run is empty. */
function lastSlot(bytes: Buffer, from: number, to: number): number {
  if (from < 0) return 0;
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
    const firstS = firstLine(bytes, "S", head, bodyEnd);
    const firstR = firstLine(bytes, "R", head, bodyEnd);
    const firstI = firstLine(bytes, "I", head, bodyEnd);
    const endI = firstI < 0 ? bodyEnd : firstI;
    const endR = endI;
    const startR = firstR < 0 ? endR : firstR;
    const endS = startR;
    const startS = firstS < 0 ? endS : firstS;
    // The serializer's order: M, S, R, I. A line of any other kind, or out of that order,
    // would land inside one of these runs: the runs must start where the previous one ended.
    if (firstS >= 0 && firstR >= 0 && firstR < firstS) return undefined;
    if (firstI >= 0 && ((firstS >= 0 && firstI < firstS) || firstI < startR))
      return undefined;
    const result: SlotLookup = {
      count: Math.max(
        lastSlot(bytes, firstS, endS),
        lastSlot(bytes, firstR, endR),
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
      const number = magazineNumber(bytes, head, startS, result.entry.magazine);
      if (number === null) return undefined;
      if (number !== undefined) result.magazineNumber = number;
    } else {
      const retired = search(bytes, startR, endR, slot);
      if (retired >= 0) {
        if (bytes[retired] !== 82) return undefined; // "R"
        const [, , barcode, extra] = fields(bytes, retired);
        if (extra !== undefined || !BARCODE.test(barcode ?? ""))
          return undefined;
        result.retired = barcode as string;
      }
    }
    return result;
  } catch {
    return undefined; // Unsure, or anything else unexpected: the full parser judges
  }
}

/** The number of magazine uuid from the M lines in [from, to); null when they are not M lines. */
function magazineNumber(
  bytes: Buffer,
  from: number,
  to: number,
  uuid: string,
): number | undefined | null {
  if (to <= from) return undefined;
  const lines = bytes.toString("latin1", from, to - 1).split("\n");
  for (const line of lines) {
    const [kind, id, number, extra] = line.split(" ");
    if (
      kind !== "M" ||
      extra !== undefined ||
      !/^[1-9]\d{0,3}$/.test(number ?? "")
    )
      return null;
    if (id === uuid) return Number(number);
  }
  return undefined;
}
