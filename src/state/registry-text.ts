// The slot registry's text form. One entry a line, because `list` parses it on every call:
//   magchanger-registry 2
//   M <magazine uuid> <magazine number>
//   S <slot> <magazine uuid> <barcode>
//   R <slot> <barcode>                       retired, awaiting a Bacula update
//   I <magazine uuid> <uri-encoded name>     a non-volume file already reported in the log
//   end <entry lines> <crc32 of all the text before this line, 8 hex digits>
// The end line makes a truncated, extended or edited file corruption instead of a silent
// renumbering (DESIGN property 1). Version 1 files (no end line, written by 0.1) are still read,
// with every field checked by its syntax; the next write turns them into version 2.
import { StateCorruptError } from "../errors.ts";

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

export const HEADER_V1 = "magchanger-registry 1";
export const HEADER = "magchanger-registry 2";
/** The highest slot number: far above any real changer, low enough that `list` stays instant. */
export const MAX_SLOT = 1_000_000;
/** The highest magazine number (volume names carry it in four digits). */
export const MAX_MAGAZINE = 9999;
/** Barcodes Bacula accepts, less ":" (listall splits on it) and a leading dot. */
export const BARCODE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,126}$/;
const UUID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SLOT = /^[1-9][0-9]{0,6}$/;

export function emptyRegistry(): Registry {
  return {
    slots: new Map(),
    byBarcode: new Map(),
    retired: new Map(),
    magazines: new Map(),
    ignored: new Set(),
  };
}

export function crc32Hex(text: string): string {
  return Bun.hash.crc32(text).toString(16).padStart(8, "0");
}

/**
 * Where the entries end and whether the end line vouches for them: for version 2 the offset of
 * the end line after checking its count and checksum; for version 1 the text's length.
 */
export function checkEnvelope(
  text: string,
  path: string,
): { bodyEnd: number; checked: boolean } {
  const first = text.indexOf("\n");
  const header = first < 0 ? text : text.slice(0, first);
  if (header === HEADER_V1) {
    if (!text.endsWith("\n")) corrupt(path, 1, "truncated: no final newline");
    return { bodyEnd: text.length, checked: false };
  }
  if (header !== HEADER) corrupt(path, 1, "missing header");
  const last = text.lastIndexOf("\n", text.length - 2);
  const endLine = text.slice(last + 1);
  const match = /^end (\d{1,8}) ([0-9a-f]{8})\n$/.exec(endLine);
  if (!text.endsWith("\n") || !match)
    corrupt(path, 0, "truncated: no end line");
  const body = text.slice(0, last + 1);
  if (crc32Hex(body) !== match[2])
    corrupt(path, 0, "checksum mismatch: edited or damaged");
  let lines = 0;
  for (let i = first + 1; i < body.length; i = body.indexOf("\n", i) + 1)
    lines++;
  if (lines !== Number(match[1]))
    corrupt(path, 0, `${lines} entry lines, the end line says ${match[1]}`);
  return { bodyEnd: last + 1, checked: true };
}

export function parseRegistry(text: string, path: string): Registry {
  const { bodyEnd, checked } = checkEnvelope(text, path);
  const registry = emptyRegistry();
  const { slots, byBarcode } = registry;
  // One indexOf pass instead of split("\n") per line: at 100,000 volumes the per-line arrays
  // were most of `list`'s time. Entries share one string per run of equal uuids.
  let uuid = "";
  let lineNo = 1;
  for (let pos = text.indexOf("\n") + 1; pos < bodyEnd;) {
    const end = text.indexOf("\n", pos);
    lineNo++;
    // Fast path: "S slot uuid barcode", exactly four fields.
    let a = -1;
    let b = -1;
    if (text.charCodeAt(pos) === 83 && text.charCodeAt(pos + 1) === 32) {
      a = text.indexOf(" ", pos + 2);
      if (a > pos + 2 && a < end) b = text.indexOf(" ", a + 1);
    }
    const c = b > a + 1 ? text.indexOf(" ", b + 1) : -1;
    if (b > a + 1 && b + 1 < end && (c < 0 || c > end)) {
      const slot = parseDigits(text, pos + 2, a, path, lineNo);
      if (b - a - 1 !== uuid.length || !text.startsWith(uuid, a + 1)) {
        uuid = text.slice(a + 1, b);
        if (!UUID.test(uuid)) corrupt(path, lineNo, "bad magazine id");
      }
      const barcode = text.slice(b + 1, end);
      if (!checked && !BARCODE.test(barcode))
        corrupt(path, lineNo, "bad barcode");
      const entry = { slot, magazine: uuid, barcode };
      const before = slots.size;
      slots.set(slot, entry);
      byBarcode.set(barcode, entry);
      if (slots.size === before || byBarcode.size === before)
        corrupt(path, lineNo, "duplicate slot or barcode");
    } else if (end > pos || checked) {
      parseOtherLine(registry, text.slice(pos, end), path, lineNo);
    }
    pos = end + 1;
  }
  for (const slot of registry.retired.keys())
    if (slots.has(slot)) corrupt(path, 0, `slot ${slot} is live and retired`);
  return registry;
}

/** A slot number: plain decimal digits without a leading zero, at most MAX_SLOT. */
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
    if (digit < 0 || digit > 9 || (i === from && digit === 0) || i - from > 6)
      return parseNumber(text.slice(from, to), MAX_SLOT, path, lineNo);
    n = n * 10 + digit;
  }
  return n <= MAX_SLOT ? n : parseNumber(String(n), MAX_SLOT, path, lineNo);
}

function parseNumber(
  field: string | undefined,
  max: number,
  path: string,
  lineNo: number,
): number {
  if (field === undefined || !SLOT.test(field) || Number(field) > max)
    corrupt(path, lineNo, `bad number "${field}" (1 to ${max})`);
  return Number(field);
}

/** Every line but a well-formed S line: R, M, I, and what is corrupt. */
function parseOtherLine(
  registry: Registry,
  line: string,
  path: string,
  lineNo: number,
): void {
  const f = line.split(" ");
  const [kind, one, two, three] = f;
  if (kind === "S" && f.length === 4 && UUID.test(two ?? "")) {
    if (!BARCODE.test(three ?? "")) corrupt(path, lineNo, "bad barcode");
    const slot = parseNumber(one, MAX_SLOT, path, lineNo);
    const entry = { slot, magazine: two as string, barcode: three as string };
    if (registry.slots.has(slot) || registry.byBarcode.has(entry.barcode))
      corrupt(path, lineNo, "duplicate slot or barcode");
    registry.slots.set(slot, entry);
    registry.byBarcode.set(entry.barcode, entry);
  } else if (kind === "R" && f.length === 3 && BARCODE.test(two ?? "")) {
    const slot = parseNumber(one, MAX_SLOT, path, lineNo);
    if (registry.retired.has(slot))
      corrupt(path, lineNo, "duplicate retired slot");
    registry.retired.set(slot, two as string);
  } else if (kind === "M" && f.length === 3 && UUID.test(one ?? "")) {
    if (registry.magazines.has(one as string))
      corrupt(path, lineNo, "duplicate magazine");
    registry.magazines.set(
      one as string,
      parseNumber(two, MAX_MAGAZINE, path, lineNo),
    );
  } else if (kind === "I" && f.length === 3 && UUID.test(one ?? "")) {
    let name: string;
    try {
      name = decodeURIComponent(two as string);
    } catch {
      return corrupt(path, lineNo, "bad %-escape");
    }
    registry.ignored.add(`${one}/${name}`);
  } else {
    corrupt(path, lineNo, `unexpected ${JSON.stringify(line.slice(0, 60))}`);
  }
}

export function corrupt(path: string, line: number, what: string): never {
  const where = line > 0 ? ` line ${line}` : "";
  throw new StateCorruptError(
    `slot registry ${path}${where} is corrupt (${what}); nothing was changed: restore it from backup or move it aside (slots will be renumbered)`,
  );
}

/** The text form. Refuses (throws) an entry the parser would refuse: never write what can't be read. */
export function serializeRegistry(registry: Registry): string {
  const out: string[] = [HEADER];
  const check = (ok: boolean, what: string) => {
    if (!ok)
      throw new StateCorruptError(
        `refusing to write a slot registry with ${what}; nothing was changed`,
      );
  };
  for (const [uuid, number] of registry.magazines) {
    check(UUID.test(uuid), `magazine id ${JSON.stringify(uuid)}`);
    check(inRange(number, MAX_MAGAZINE), `magazine number ${number}`);
    out.push(`M ${uuid} ${number}`);
  }
  const slots = [...registry.slots.values()].sort((a, b) => a.slot - b.slot);
  for (const e of slots) {
    check(inRange(e.slot, MAX_SLOT), `slot ${e.slot}`);
    check(UUID.test(e.magazine) && BARCODE.test(e.barcode), `entry ${e.slot}`);
    out.push(`S ${e.slot} ${e.magazine} ${e.barcode}`);
  }
  for (const [slot, barcode] of [...registry.retired].sort(
    (a, b) => a[0] - b[0],
  )) {
    check(
      inRange(slot, MAX_SLOT) && !registry.slots.has(slot),
      `retired slot ${slot}`,
    );
    out.push(`R ${slot} ${barcode}`);
  }
  for (const key of registry.ignored) {
    const cut = key.indexOf("/");
    out.push(
      `I ${key.slice(0, cut)} ${encodeURIComponent(key.slice(cut + 1))}`,
    );
  }
  const body = `${out.join("\n")}\n`;
  return `${body}end ${out.length - 1} ${crc32Hex(body)}\n`;
}

function inRange(n: number, max: number): boolean {
  return Number.isSafeInteger(n) && n >= 1 && n <= max;
}
