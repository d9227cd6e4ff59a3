// Root-safe creation in places the run-as user or a disk can influence (the rules are in
// safe-fs.ts): a log opened for appending, a new file made with O_EXCL, directories made or
// accepted without following a link, each handed to its owner through the open fd.
import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  writeSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import {
  checkOwner,
  kindOf,
  lstatDirectory,
  lstatIfExists,
  type Owner,
  trustedLinkParent,
  unsafe,
} from "./safe-fs.ts";

const {
  O_RDONLY,
  O_WRONLY,
  O_CREAT,
  O_EXCL,
  O_APPEND,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_NOCTTY,
  O_DIRECTORY,
} = constants;

/**
 * Opens (or creates) a file for appending, as a log: never through a link, only a regular file
 * with one link, owned by one of owners when it already exists. A file it creates is handed to
 * createOwner through the fd. Returns the fd.
 */
export function openAppendNoFollow(
  path: string,
  options: {
    mode?: number;
    owners?: readonly number[];
    createOwner?: Owner | undefined;
  } = {},
): number {
  let fd: number;
  let created = false;
  try {
    fd = openSync(
      path,
      O_WRONLY |
        O_APPEND |
        O_CREAT |
        O_EXCL |
        O_NOFOLLOW |
        O_NONBLOCK |
        O_NOCTTY,
      options.mode ?? 0o640,
    );
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const seen = lstatSync(path);
    if (seen.isSymbolicLink())
      throw unsafe(path, "ELOOP", "a symbolic link; not followed");
    if (!seen.isFile())
      throw unsafe(path, "ENOTREG", `not a regular file: ${kindOf(seen)}`);
    fd = openSync(
      path,
      O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
    );
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      throw unsafe(path, "ENOTREG", `not a regular file: ${kindOf(stats)}`);
    if (!created) {
      checkOwner(path, stats, options.owners);
      if (stats.nlink !== 1)
        throw unsafe(path, "EMLINK", `${stats.nlink} hard links`);
    } else if (options.createOwner) {
      fchownSync(fd, options.createOwner.uid, options.createOwner.gid);
    }
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Creates a new file with data (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing file or a link's
 * target) and hands it to owner through the fd. Throws EEXIST when anything is at path.
 */
export function createFileExclusive(
  path: string,
  data: string | Uint8Array,
  mode: number,
  owner?: Owner,
): void {
  const fd = openSync(
    path,
    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY,
    mode,
  );
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.length)
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a directory that is really one (not a link to one) and returns its fd: for fchown, or
 * to pin it while its fstat is checked. The caller closes it.
 */
export function openDirectoryNoFollow(path: string): number {
  const fd = openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK);
  return fd;
}

/** mkdir of one level, or nothing when anything is already there: whether it made it. */
export function mkdirIfMissing(path: string, mode: number): boolean {
  try {
    mkdirSync(path, { mode });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  }
}

/**
 * Makes dir (one level; its parent must exist) or accepts an existing real directory, and, when
 * owner is given, hands a directory it created to owner through its fd. An existing directory
 * is only handed over when it is root's and empty-handed ownership is asked (claimExisting).
 * Returns whether it created the directory.
 */
export function ensureDirectoryNoFollow(
  dir: string,
  mode: number,
  owner?: Owner,
  options: { claimExisting?: boolean } = {},
): boolean {
  const created = mkdirIfMissing(dir, mode);
  const fd = openDirectoryNoFollow(dir);
  try {
    const stats = fstatSync(fd);
    if (!stats.isDirectory()) throw unsafe(dir, "ENOTDIR");
    if (
      owner &&
      (created || options.claimExisting) &&
      (stats.uid !== owner.uid || stats.gid !== owner.gid)
    )
      fchownSync(fd, owner.uid, owner.gid);
  } finally {
    closeSync(fd);
  }
  return created;
}

/** As ensureDirectoryNoFollow for every missing level of dir; levels that exist must be real directories. */
export function ensureDirectoriesNoFollow(
  dir: string,
  mode: number,
  owner?: Owner,
): void {
  const absolute = resolve(dir);
  const missing: string[] = [];
  let at = absolute;
  for (;;) {
    const stats = lstatIfExists(at);
    if (stats) {
      if (
        stats.isSymbolicLink() &&
        missing.length > 0 &&
        !trustedLinkParent(at)
      )
        throw unsafe(
          at,
          "ELOOP",
          "a symbolic link in a directory others may write; not followed",
        );
      break;
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const level of missing) ensureDirectoryNoFollow(level, mode, owner);
  if (missing.length === 0) lstatDirectory(absolute);
}
