// Which disk is in which bay. A magazine is present only when its mount point is a mounted
// filesystem (or a directory the config explicitly allows) carrying one magchanger identity of
// this changer. One readdir per magazine gives both the identity and the volumes: no per-file
// stat (DESIGN property 8).
import {
  closeSync,
  constants,
  type Dirent,
  lstatSync,
  openSync,
  readdirSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import type { Config, MagazineConfig } from "../config/schema.ts";
import { noDiskUnlocked } from "./unlocked.ts";
import { IDENTITY_PREFIX, isVolumeName } from "./barcode.ts";
import { errnoCode } from "../errors.ts";
import { isMountPoint } from "../system/mounts.ts";
import type { System } from "../system/system.ts";
import { printable, quoted } from "../text.ts";
import { isVchanger08File } from "./vchanger08.ts";
import {
  identityDir,
  type MagazineIdentity,
  diskFailure,
  isDiskFailure,
  readIdentity,
  UUID_PATTERN,
} from "./identity.ts";

export interface MagazineStatus {
  /** 1-based position in the config's [[magazine]] list: the bay number. */
  index: number;
  spec: MagazineConfig;
  /** How the config names it: the path, uuid=... or label=... */
  where: string;
  mountPoint: string | undefined;
  present: boolean;
  /** Why it is absent. */
  reason?: string;
  identity?: MagazineIdentity;
  volumes: string[];
  /** Entries that are not volumes (bad names, directories), by name. */
  ignored: string[];
  /** Absent because the identity on the disk is damaged: worth a warning, not a debug line. */
  damaged?: boolean;
  /**
   * Absent because reading the disk failed with an I/O error: it was pulled while mounted, or is
   * failing. Not a disk of someone else (no unknown-disk event), and nothing on it is trusted.
   */
  failed?: boolean;
}

export function describeSpec(spec: MagazineConfig): string {
  if (spec.path !== undefined) return spec.path;
  if (spec.uuid !== undefined) return `uuid=${spec.uuid}`;
  return `label=${spec.label}`;
}

/** The directory where the configured magazine is (or would be) mounted. */
export async function resolveMountPoint(
  spec: MagazineConfig,
  sys: System,
): Promise<{ mountPoint?: string; reason?: string }> {
  if (spec.path !== undefined) return { mountPoint: spec.path };
  const by = spec.uuid !== undefined ? "uuid" : "label";
  const value = (spec.uuid ?? spec.label) as string;
  const device = await sys.findFilesystem(by, value);
  if (!device)
    return { reason: `no filesystem with ${by} ${value} is attached` };
  const mountPoint = sys.mountPointOfDevice(device);
  if (!mountPoint)
    return { reason: `${device} (${by} ${value}) is attached but not mounted` };
  return { mountPoint };
}

export async function probeMagazine(
  config: Config,
  index: number,
  sys: System,
): Promise<MagazineStatus> {
  const spec = config.magazine[index - 1] as MagazineConfig;
  const status: MagazineStatus = {
    index,
    spec,
    where: describeSpec(spec),
    mountPoint: undefined,
    present: false,
    volumes: [],
    ignored: [],
  };
  const absent = (reason: string) =>
    Object.assign(status, { present: false, reason });
  const notUnlocked =
    spec.path === undefined
      ? undefined
      : noDiskUnlocked(config, spec.path, sys);
  if (notUnlocked) return absent(notUnlocked);
  const resolved = await resolveMountPoint(spec, sys);
  if (!resolved.mountPoint) return absent(resolved.reason ?? "not found");
  const mountPoint = resolved.mountPoint;
  status.mountPoint = mountPoint;
  const entries = listBay(spec, mountPoint);
  if (!Array.isArray(entries))
    return entries.failed
      ? Object.assign(absent(entries.reason), { failed: true })
      : absent(entries.reason);
  const { identities, notDirectories, volumes, ignored } = sortEntries(entries);
  status.volumes = volumes;
  status.ignored = ignored;
  const identity = identifyBay(
    config,
    index,
    mountPoint,
    identities,
    notDirectories,
  );
  if ("reason" in identity)
    return Object.assign(absent(identity.reason), {
      ...(identity.damaged ? { damaged: true } : {}),
      ...(identity.failed ? { failed: true } : {}),
    });
  status.identity = identity;
  status.present = true;
  // vchanger 0.8's own files on an adopted magazine are never volumes.
  if (identity.vchanger?.layout === "0.8")
    status.volumes = status.volumes.filter((n) => !isVchanger08File(n));
  return status;
}

/** The entries of a bay's top directory, or why it is absent (no directory, nothing mounted). */
function listBay(
  spec: MagazineConfig,
  mountPoint: string,
): Dirent[] | { reason: string; failed?: boolean } {
  try {
    // stat first: on an autofs bay this lookup is what mounts the disk.
    const dirStat = statSync(mountPoint);
    if (!dirStat.isDirectory())
      return { reason: `${mountPoint} is not a directory` };
    if (!spec.allow_unmounted && !isMountPoint(mountPoint, dirStat))
      return {
        reason: `nothing is mounted at ${mountPoint} (an empty mount point is never used)`,
      };
    return readdirSync(mountPoint, { withFileTypes: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT")
      return {
        reason: `nothing is mounted at ${mountPoint} (no such directory)`,
      };
    if (isDiskFailure(error))
      return { reason: diskFailure(mountPoint, error), failed: true };
    return {
      reason: `cannot read ${mountPoint}: ${code ?? (error as Error).message}`,
    };
  }
}

/** The one identity of this changer on a bay, or why the bay is absent (damaged: unreadable). */
function identifyBay(
  config: Config,
  index: number,
  mountPoint: string,
  identities: string[],
  notDirectories: string[],
): MagazineIdentity | { reason: string; damaged?: boolean; failed?: boolean } {
  if (identities.length === 0) {
    return {
      reason: config.legacy
        ? `${mountPoint} carries no magchanger identity yet; a vchanger magazine there is adopted as it is by the changer's next scan (\`magchanger ${config.source} list\`)`
        : `${mountPoint} carries no magchanger identity; run \`magchanger magazine init -c ${config.source} ${index}\``,
    };
  }
  if (identities.length > 1) {
    return {
      reason: `${mountPoint} carries ${identities.length} identities (${identities.map(quoted).join(", ")}); remove all but one`,
    };
  }
  const uuid = identities[0] as string;
  // Drive links resolve through the identity: a link there would lead them off the disk.
  if (notDirectories.includes(uuid))
    return {
      reason: `${identityDir(mountPoint, uuid)} is not a directory (a link or a file); remove it and re-initialize the magazine`,
    };
  const identity = readIdentity(mountPoint, uuid);
  if (typeof identity === "object" && "failed" in identity) return identity;
  if (typeof identity === "string") return { reason: identity, damaged: true };
  if (identity.changer !== config.name) {
    return {
      reason: `${mountPoint} holds magazine ${identity.number} of changer ${printable(identity.changer)}, not ${config.name}`,
    };
  }
  return identity;
}

/**
 * Splits a magazine's top directory into identity markers, volumes and other entries. The
 * Dirent types come from readdir and never follow a link: a link named like a volume is no
 * volume, and identity markers the directory says are not directories are listed as such.
 */
export function sortEntries(entries: Dirent[]): {
  identities: string[];
  notDirectories: string[];
  volumes: string[];
  ignored: string[];
} {
  const identities: string[] = [];
  const notDirectories: string[] = [];
  const volumes: string[] = [];
  const ignored: string[] = [];
  for (const entry of entries) {
    const name = entry.name;
    if (isIdentityName(name)) {
      identities.push(name.slice(IDENTITY_PREFIX.length));
      if (knownNotDirectory(entry))
        notDirectories.push(name.slice(IDENTITY_PREFIX.length));
    } else if (entry.isFile() && isVolumeName(name)) volumes.push(name);
    else if (!name.startsWith(".") && name !== "lost+found") ignored.push(name);
  }
  return { identities, notDirectories, volumes, ignored };
}

/**
 * Only `.magchanger-<uuid>` names the identity (a real directory, checked later): a stray
 * `.magchanger-notes.txt` or `.magchanger-old/` is a hidden file like any other.
 */
export function isIdentityName(name: string): boolean {
  return (
    name.startsWith(IDENTITY_PREFIX) &&
    UUID_PATTERN.test(name.slice(IDENTITY_PREFIX.length))
  );
}

/** The entry's type is known and is not a directory (an unknown type is left to lstat). */
function knownNotDirectory(entry: Dirent): boolean {
  if (entry.isDirectory()) return false;
  return (
    entry.isSymbolicLink() ||
    entry.isFile() ||
    entry.isFIFO() ||
    entry.isSocket() ||
    entry.isCharacterDevice() ||
    entry.isBlockDevice()
  );
}

/**
 * vchanger 0.8's automount_dir: autofs mounts a UUID magazine at DIR/UUID when that path is
 * opened, so open it first (0.8.6 used opendir too); the mount is then found by UUID as usual.
 */
export function triggerAutomounts(config: Config): void {
  const dir = config.legacy?.automount_dir;
  if (!dir) return;
  for (const spec of config.magazine) {
    if (spec.uuid === undefined) continue;
    try {
      // Only a directory, never blocking: the lookup alone is what mounts it.
      closeSync(
        openSync(
          join(dir, spec.uuid),
          constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NONBLOCK,
        ),
      );
    } catch {
      // not attached: the UUID lookup reports it
    }
  }
}

export async function probeAll(
  config: Config,
  sys: System,
): Promise<MagazineStatus[]> {
  triggerAutomounts(config);
  const result: MagazineStatus[] = [];
  const seen = new Map<string, number>();
  for (let index = 1; index <= config.magazine.length; index++) {
    const status = await probeMagazine(config, index, sys);
    const uuid = status.identity?.uuid;
    if (uuid && seen.has(uuid)) {
      // A dd copy of a disk: two bays with one identity would give one barcode two homes.
      status.present = false;
      status.reason = `${status.mountPoint} is a copy of the magazine in bay ${seen.get(uuid)} (same identity ${uuid}); ignored`;
      delete status.identity;
    } else if (uuid) {
      seen.set(uuid, index);
    }
    result.push(status);
  }
  return result;
}

/**
 * Where the magazine with this identity is mounted now, checked with one stat per bay (no
 * directory scan): the load path. undefined when it is in no configured bay.
 */
export async function locateMagazine(
  config: Config,
  uuid: string,
  sys: System,
): Promise<string | undefined> {
  return (await findMagazine(config, uuid, sys)).mountPoint;
}

/**
 * Where the magazine is mounted, or, when it is in no bay, the bays that could not be looked into
 * (the run-as user may not enter them, the disk answered with an I/O error): "not attached" would
 * be false for those.
 */
export async function findMagazine(
  config: Config,
  uuid: string,
  sys: System,
): Promise<{ mountPoint?: string; unreadable: string[] }> {
  triggerAutomounts(config);
  const unreadable: string[] = [];
  for (const spec of config.magazine) {
    if (spec.path !== undefined && noDiskUnlocked(config, spec.path, sys))
      continue;
    const { mountPoint } = await resolveMountPoint(spec, sys);
    if (!mountPoint) continue;
    try {
      // lstat: an identity that is a link is no identity (drive links resolve through it).
      if (!lstatSync(identityDir(mountPoint, uuid)).isDirectory()) continue;
      if (!spec.allow_unmounted && !isMountPoint(mountPoint)) continue;
      return { mountPoint, unreadable };
    } catch (error) {
      const code = errnoCode(error);
      if (code === "EACCES" || code === "EPERM")
        unreadable.push(`cannot read ${mountPoint}: ${code}`);
      else if (isDiskFailure(error))
        unreadable.push(diskFailure(mountPoint, error));
    }
  }
  return { unreadable };
}
