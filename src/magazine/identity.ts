// A magazine's identity lives on the disk itself: a directory `.magchanger-<uuid>` at the top of
// the filesystem, holding magazine.json. Drive symlinks point through that directory
// (MOUNT/.magchanger-<uuid>/../VOLUME), so a path to a volume only resolves while that very
// disk is mounted: on an empty mount point or another disk, open() fails with ENOENT even with
// O_CREAT, and the storage daemon can never write a volume into the wrong place.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IDENTITY_PREFIX } from "../changer/barcode.ts";

export interface MagazineIdentity {
  uuid: string;
  changer: string;
  number: number;
  /** Highest volume number handed out on this magazine (createvols continues after it). */
  lastVolume: number;
  created: string;
  /** Set when the magazine was adopted from vchanger as it was (src/magazine/adopt.ts). */
  vchanger?: VchangerOrigin;
}

export interface VchangerOrigin {
  /** The layout found: 0.8 (index, loadedN/driveN files) or 1.0 (a directory of volumes). */
  layout: "0.8" | "1.0";
  /** 0.8: the magazine number its index file gave. */
  index?: number;
  adopted: string;
}

export const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function identityDir(mountPoint: string, uuid: string): string {
  return join(mountPoint, `${IDENTITY_PREFIX}${uuid}`);
}

export function identityFile(mountPoint: string, uuid: string): string {
  return join(identityDir(mountPoint, uuid), "magazine.json");
}

/** The path a drive symlink uses for a volume: resolves only on the right, mounted disk. */
export function volumeTarget(
  mountPoint: string,
  uuid: string,
  barcode: string,
): string {
  return `${identityDir(mountPoint, uuid)}/../${barcode}`;
}

export function readIdentity(
  mountPoint: string,
  uuid: string,
): MagazineIdentity | string {
  const file = identityFile(mountPoint, uuid);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    return `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  const d = data as Partial<MagazineIdentity>;
  if (
    d.uuid !== uuid ||
    typeof d.changer !== "string" ||
    !Number.isInteger(d.number) ||
    !Number.isInteger(d.lastVolume) ||
    typeof d.created !== "string"
  ) {
    return `${file} is not a valid magazine identity`;
  }
  return d as MagazineIdentity;
}

export function serializeIdentity(identity: MagazineIdentity): string {
  return `${JSON.stringify(identity, null, 1)}\n`;
}
