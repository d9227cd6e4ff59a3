// A magazine's identity lives on the disk itself: a directory `.magchanger-<uuid>` at the top of
// the filesystem, holding magazine.json. Drive symlinks point through that directory
// (MOUNT/.magchanger-<uuid>/../VOLUME), so a path to a volume only resolves while that very
// disk is mounted: on an empty mount point or another disk, open() fails with ENOENT even with
// O_CREAT, and the storage daemon can never write a volume into the wrong place.
import {
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { IDENTITY_PREFIX } from "./barcode.ts";
import { describeErrno } from "../errors.ts";
import { syncDirectory } from "../state/atomic.ts";
import { MAX_MAGAZINE } from "../state/registry-text.ts";
import { lstatDirectory, readTextBounded } from "../state/safe-fs.ts";
import { isFilesystemLabel } from "./fs-label.ts";
import { isMagazineName } from "./magazine-name.ts";

export interface MagazineIdentity {
  uuid: string;
  changer: string;
  number: number;
  /** Highest volume number handed out on this magazine (createvols continues after it). */
  lastVolume: number;
  created: string;
  /** The operator's name for the disk (`magazine init --name`, `magazine rename`). */
  name?: string;
  /** The filesystem label the disk had when it was named or initialized (blkid, as root). */
  label?: string;
  /** Set when the magazine was adopted from vchanger as it was (src/changer/adopt.ts). */
  vchanger?: VchangerOrigin;
}

export interface VchangerOrigin {
  /** The layout found: 0.8 (index, loadedN/driveN files) or 1.0 (a directory of volumes). */
  layout: "0.8" | "1.0";
  /** 0.8: the magazine number its index file gave. */
  index?: number;
  adopted: string;
}

/** magazine.json is a few hundred bytes; anything near this is not one. */
export const IDENTITY_MAX_BYTES = 16 * 1024;

/** Volume numbers are four digits in a barcode (usbchanger1_0004_0008). */
export const MAX_VOLUME = 9999;

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

/**
 * What a read of a file on a disk found instead of the file, for a one-line message: the code
 * and the kind of thing found ("ENOTREG: not a regular file: a FIFO"), never any of its content.
 */
export function describeDiskRead(error: unknown): string {
  const detail = (error as { detail?: unknown }).detail;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && typeof detail === "string" && detail)
    return `${code}: ${detail}`;
  return describeErrno(error);
}

/**
 * An I/O error from the disk itself: a USB disk pulled while mounted answers every read with EIO
 * (seen on a real kernel), and so does a failing one. Not damage to repair by re-initializing.
 */
export function isDiskFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "EIO" || code === "ENXIO" || code === "ENODEV";
}

export function diskFailure(path: string, error: unknown): string {
  return `reading ${path} failed with ${describeErrno(error)}: the disk was pulled while mounted, or is failing (see dmesg); nothing on it is used until it is replugged or replaced`;
}

/**
 * The identity on a disk, or why there is none usable. Everything on the disk is its owner's:
 * the identity must be a real directory (drive links resolve through it, so a link would lead
 * off the disk) and magazine.json a small regular file, opened without following a link or
 * blocking on a FIFO. A parse error is reported without its text, which quotes the content.
 */
export function readIdentity(
  mountPoint: string,
  uuid: string,
): MagazineIdentity | string | { reason: string; failed: true } {
  const dir = identityDir(mountPoint, uuid);
  const file = identityFile(mountPoint, uuid);
  let text: string;
  try {
    lstatDirectory(dir);
  } catch (error) {
    if (isDiskFailure(error))
      return { reason: diskFailure(dir, error), failed: true };
    return `${dir} is not a directory (${describeDiskRead(error)}); an identity is a real directory on the disk: re-initialize the magazine`;
  }
  try {
    text = readTextBounded(file, { maxBytes: IDENTITY_MAX_BYTES });
  } catch (error) {
    if (isDiskFailure(error))
      return { reason: diskFailure(file, error), failed: true };
    return `cannot read ${file}: ${describeDiskRead(error)}`;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return `${file} is not valid JSON, so not a magazine identity`;
  }
  const d = (
    data !== null && typeof data === "object" && !Array.isArray(data)
      ? data
      : {}
  ) as Partial<MagazineIdentity>;
  // The number becomes registry lines and barcodes: out of range would brick the registry.
  if (
    d.uuid !== uuid ||
    typeof d.changer !== "string" ||
    !inRange(d.number, 1, MAX_MAGAZINE) ||
    !inRange(d.lastVolume, 0, MAX_VOLUME) ||
    typeof d.created !== "string"
  ) {
    return `${file} is not a valid magazine identity (an object with uuid, changer, number 1..${MAX_MAGAZINE}, lastVolume 0..${MAX_VOLUME}, created); fix it or re-initialize the magazine`;
  }
  // A damaged name or label only loses the name: the magazine itself stays usable.
  if (d.name !== undefined && !isMagazineName(d.name)) delete d.name;
  if (d.label !== undefined && !isFilesystemLabel(d.label)) delete d.label;
  return d as MagazineIdentity;
}

function inRange(value: unknown, min: number, max: number): boolean {
  return (
    Number.isInteger(value) &&
    (value as number) >= min &&
    (value as number) <= max
  );
}

export function serializeIdentity(identity: MagazineIdentity): string {
  return `${JSON.stringify(identity, null, 1)}\n`;
}

/**
 * The identity appears whole or not at all: written into a directory whose name discovery
 * ignores, then renamed into place. A failure leaves the magazine as it was. The disk is its
 * owner's, who may swap that directory for a link at any moment: the new directory is pinned by
 * an fd (O_NOFOLLOW) and magazine.json created through it, so no write ever lands elsewhere (a
 * link renamed into place is no identity: discovery refuses it).
 */
export function writeIdentity(
  mountPoint: string,
  identity: MagazineIdentity,
): void {
  // Not `.magchanger-*`: a leftover must never read as an identity.
  const temp = join(mountPoint, `.adopting-magchanger.${process.pid}`);
  let dirFd: number | undefined;
  try {
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { mode: 0o755 });
    dirFd = openSync(
      temp,
      constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
    );
    createInDirectory(dirFd, "magazine.json", serializeIdentity(identity));
    renameSync(temp, identityDir(mountPoint, identity.uuid));
    syncDirectory(mountPoint);
  } catch (error) {
    try {
      rmSync(temp, { recursive: true, force: true });
    } catch {
      // the failure below is what matters
    }
    throw new Error(describeErrno(error), { cause: error });
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
}

/** Creates name in the directory open as dirFd (never through a link), durably. */
function createInDirectory(dirFd: number, name: string, text: string): void {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NOCTTY } = constants;
  // /proc/self/fd/N is the pinned directory itself, whatever its path has become since.
  const fd = openSync(
    `/proc/self/fd/${dirFd}/${name}`,
    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY,
    0o644,
  );
  try {
    const bytes = Buffer.from(text);
    let offset = 0;
    while (offset < bytes.length)
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncSync(dirFd);
}
