// Directories root hands to the run-as user (the work dir, the log dir, a bay): made or claimed
// without following a link that user (or anyone but root) could have planted on the way, and
// chowned through the open fd, never by path. Built on state/safe-fs.ts and
// state/safe-create.ts.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  readlinkSync,
  realpathSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import {
  ensureDirectoriesNoFollow,
  mkdirIfMissing,
  openDirectoryNoFollow,
} from "./safe-create.ts";
import {
  lstatIfExists,
  type Owner,
  unsafe,
  untrustedComponent,
} from "./safe-fs.ts";

/**
 * For root handing a directory to the run-as user (work dir, log dir, bay): dir, made when
 * missing (missing parents root's 0755), reached only through links root owns in directories
 * root alone controls, opened O_NOFOLLOW and checked by its fd to be where the path led when it
 * was checked (a parent swapped for a link in between is caught); a directory it creates, or any
 * with claimExisting, is fchown'd to owner. Returns the real path and whether it was created.
 */
export function ensureOwnedDirectory(
  dir: string,
  mode: number,
  owner: Owner | undefined,
  options: { claimExisting?: boolean } = {},
): { path: string; created: boolean; chowned: boolean } {
  const { fd, path, created, chowned } = openOwnedDirectory(
    dir,
    mode,
    owner,
    options,
  );
  closeSync(fd);
  return { path, created, chowned };
}

export interface OwnedDirectory {
  /** The open directory: the caller closes it. */
  fd: number;
  /** Its real path. */
  path: string;
  created: boolean;
  /** Whether it was handed to owner now. */
  chowned: boolean;
  /** A path to name inside this very directory (through /proc/self/fd, as openat would). */
  entry(name: string): string;
}

/** As ensureOwnedDirectory, keeping the directory open so entries are reached through the fd. */
export function openOwnedDirectory(
  dir: string,
  mode: number,
  owner: Owner | undefined,
  options: { claimExisting?: boolean } = {},
  depth = 0,
): OwnedDirectory {
  const absolute = resolve(dir);
  const parent = dirname(absolute);
  refuseUntrustedLinks(parent);
  const seen = lstatIfExists(absolute);
  if (seen?.isSymbolicLink()) {
    const why = untrustedComponent(parent);
    if (why || seen.uid !== 0 || depth > 8)
      throw unsafe(
        absolute,
        "ELOOP",
        `a symbolic link; not followed: ${why ?? "not root's"}`,
      );
    const target = resolve(parent, readlinkSync(absolute));
    return openOwnedDirectory(target, mode, owner, options, depth + 1);
  }
  if (!lstatIfExists(parent)) ensureDirectoriesNoFollow(parent, 0o755);
  const expected = realpathSync(parent);
  refuseUntrustedLinks(parent);
  const created = mkdirIfMissing(absolute, mode);
  const fd = openDirectoryNoFollow(absolute);
  const real = fdPath(fd);
  let chowned = false;
  try {
    // Fail closed: without /proc nothing proves the fd is where the checked path led.
    if (real === undefined)
      throw unsafe(
        absolute,
        "ECHANGED",
        "cannot check where it leads without /proc; mount /proc and retry",
      );
    if (dirname(real) !== expected)
      throw unsafe(
        absolute,
        "ECHANGED",
        `a parent was replaced: it led to ${real}`,
      );
    const stats = fstatSync(fd);
    // mkdir's mode went through the umask.
    if (created && (stats.mode & 0o7777) !== mode) fchmodSync(fd, mode);
    chowned =
      owner !== undefined &&
      (created || options.claimExisting === true) &&
      (stats.uid !== owner.uid || stats.gid !== owner.gid);
    if (owner && chowned) fchownSync(fd, owner.uid, owner.gid);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const path = real;
  const entry = (name: string) => `/proc/self/fd/${fd}/${name}`;
  return { fd, path, created, chowned, entry };
}

/** Throws ELOOP at the first existing component of path that is a link others could have planted. */
export function refuseUntrustedLinks(path: string): void {
  const parts = resolve(path).split("/").filter(Boolean);
  let at = "";
  for (const part of parts) {
    at = `${at}/${part}`;
    const stats = lstatIfExists(at);
    if (!stats) return;
    if (!stats.isSymbolicLink()) continue;
    const why =
      stats.uid === 0
        ? untrustedComponent(dirname(at))
        : `owned by uid ${stats.uid}`;
    if (why)
      throw unsafe(
        at,
        "ELOOP",
        `a symbolic link others may have planted (${why}); not followed`,
      );
  }
}

/** Where an open fd really is (its /proc/self/fd link), or undefined without /proc. */
function fdPath(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}
