// A magazine's space for the run-as user as refresh last measured it (WORK_DIR/magazines.json):
// the one figure known of a disk in the drawer, read back without trusting the file. The bytes
// its volume files held then go with it: what Bacula's catalog says they hold now, less that, is
// what was written after the measure (a disk stays attached for days after its last refresh).
// Reading it is cheap (a failed `load` reads magazines.json for a disk's name); measuring is
// measure-space.ts's, loaded by refresh only.

export interface MagazineSpace {
  availableBytes: number;
  /** Everything the run-as user may fill (root's reserve not counted). */
  totalBytes: number;
  /** What its volume files held then. */
  volumeBytes?: number;
  at: string;
}

const isBytes = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export function sanitizeSpace(raw: unknown): MagazineSpace | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const s = raw as Record<string, unknown>;
  if (!isBytes(s.availableBytes) || !isBytes(s.totalBytes)) return undefined;
  if (typeof s.at !== "string" || Number.isNaN(Date.parse(s.at)))
    return undefined;
  return {
    availableBytes: s.availableBytes,
    totalBytes: s.totalBytes,
    ...(isBytes(s.volumeBytes) ? { volumeBytes: s.volumeBytes } : {}),
    at: s.at,
  };
}

/**
 * The space a magazine in the drawer has now, about: what it had when measured, less what the
 * catalog says its volumes grew by since (catalogBytes: the catalog's VolBytes of its volumes).
 */
export function estimatedFreeBytes(
  space: MagazineSpace,
  catalogBytes: number,
): number {
  if (space.volumeBytes === undefined) return space.availableBytes;
  const written = Math.max(0, catalogBytes - space.volumeBytes);
  return Math.max(0, space.availableBytes - written);
}
