// The listing cache's file format and what it records of each bay, kept apart from the
// decision to use it (listing-cache.ts). File: one JSON header line, then the body: the `list`
// answer followed by listall's S: lines as if every drive were empty. The header carries the
// body's length and CRC-32, so a body cut short, grown or edited in place is never served; a
// header of any other shape is no cache at all. The work dir is the run-as user's, and anything
// can end up in it: every field is checked before use, and nothing here throws.
import type { DriveState } from "../state/drives.ts";
import { driveLines } from "./protocol.ts";
import { readFileBounded } from "../state/safe-fs.ts";

export const CACHE_VERSION = 4;

/** What a bay's magazine identity was when the answer was made. */
export interface IdentityStamp {
  /** The identity directory's name (`.magchanger-<uuid>`), as found on the bay. */
  name: string;
  /**
   * The CRC-32 of its magazine.json (or "unreadable"): the scan reads that file, and an edit in
   * place changes no directory entry, so only its bytes tell.
   */
  seen: string;
}

export interface BayStamp {
  stamp: string | null;
  mounted: boolean;
  identity: string | null;
  identities: IdentityStamp[];
}

export interface CacheHeader {
  version: typeof CACHE_VERSION;
  config: string;
  registry: string | null;
  bays: BayStamp[];
  slots: number;
  listLength: number;
  bodyLength: number;
  crc: number;
}

export interface CacheFile {
  header: CacheHeader;
  /**
   * The body as read (latin1: one byte a character). Kept as bytes: at 100,000 volumes it is
   * ~5 MiB, and `list` writes its part as it is, without a decoded copy.
   */
  body: Buffer;
}

const isCount = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === "string";
const isTextOrNull = (v: unknown) => v === null || typeof v === "string";

function isIdentityStamp(v: unknown): v is IdentityStamp {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Partial<IdentityStamp>;
  return isText(s.name) && isText(s.seen);
}

function isBayStamp(v: unknown): v is BayStamp {
  if (typeof v !== "object" || v === null) return false;
  const b = v as Partial<BayStamp>;
  return (
    isTextOrNull(b.stamp) &&
    typeof b.mounted === "boolean" &&
    isTextOrNull(b.identity) &&
    Array.isArray(b.identities) &&
    b.identities.every(isIdentityStamp)
  );
}

function isHeader(v: unknown): v is CacheHeader {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const h = v as Partial<CacheHeader>;
  return (
    h.version === CACHE_VERSION &&
    isText(h.config) &&
    isTextOrNull(h.registry) &&
    Array.isArray(h.bays) &&
    h.bays.every(isBayStamp) &&
    isCount(h.slots) &&
    isCount(h.listLength) &&
    isCount(h.bodyLength) &&
    isCount(h.crc) &&
    h.listLength <= h.bodyLength
  );
}

/** The cache in bytes, when it is whole: a header of the right shape and its very body. */
export function parseCacheFile(bytes: Buffer): CacheFile | undefined {
  const cut = bytes.indexOf(0x0a);
  if (cut < 0) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(0, cut).toString("latin1"));
  } catch {
    return undefined;
  }
  if (!isHeader(header)) return undefined;
  const body = bytes.subarray(cut + 1);
  if (body.length !== header.bodyLength || Bun.hash.crc32(body) !== header.crc)
    return undefined;
  return { header, body };
}

export function serializeCacheFile(
  header: Omit<CacheHeader, "version" | "bodyLength" | "crc">,
  body: string,
): string {
  const bytes = Buffer.from(body, "latin1");
  const full: CacheHeader = {
    version: CACHE_VERSION,
    ...header,
    bodyLength: bytes.length,
    crc: Bun.hash.crc32(bytes),
  };
  return `${JSON.stringify(full)}\n${body}`;
}

/** magazine.json is a few hundred bytes (disk/identity.ts caps it at 16 KiB). */
const IDENTITY_MAX_BYTES = 16 * 1024;

/** An identity's magazine.json, read as the scan reads it, or undefined when it cannot be. */
export function readIdentityBytes(file: string): Buffer | undefined {
  try {
    return readFileBounded(file, { maxBytes: IDENTITY_MAX_BYTES });
  } catch {
    return undefined;
  }
}

/** The fingerprint recorded and compared: the CRC-32 of the bytes, or that there are none. */
export function fingerprint(bytes: Buffer | undefined): string {
  return bytes ? `crc:${Bun.hash.crc32(bytes)}` : "unreadable";
}

/** The line of `slot` in a text of `N:...` or `S:N:...` lines, as [start, end) or undefined. */
function lineOf(text: string, prefix: string): [number, number] | undefined {
  const start = text.startsWith(prefix) ? 0 : text.indexOf(`\n${prefix}`) + 1;
  if (start === 0 && !text.startsWith(prefix)) return undefined;
  const end = text.indexOf("\n", start);
  return [start, end < 0 ? text.length : end];
}

/** listall from the cached S: lines: D: lines for the drives, their slots shown empty. */
export function patchListAll(
  list: string,
  slotLines: string,
  drives: DriveState,
  driveCount: number,
): string {
  const { lines, inDrive } = driveLines(drives, driveCount, (slot) => {
    const at = lineOf(list, `${slot}:`);
    return at
      ? list.slice(at[0] + `${slot}:`.length, at[1]) || undefined
      : undefined;
  });
  let slots = slotLines;
  for (const slot of inDrive) {
    const line = lineOf(slots, `S:${slot}:F:`);
    if (line)
      slots = `${slots.slice(0, line[0])}S:${slot}:E${slots.slice(line[1])}`;
  }
  return lines.map((l) => `${l}\n`).join("") + slots;
}
