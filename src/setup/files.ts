// File operations for setup: crash-safe replacement that keeps owner and mode, and backups.
// Owners and modes are set through an fd opened without following a link (O_NOFOLLOW), never
// by path: the work dir and the log live in directories the run-as user may own, and a link it
// planted there must not make root chown or chmod what it points to.
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  type Stats,
} from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { AppError, describeErrno, errnoCode } from "../errors.ts";
import { replaceSymlink, writeFileAtomic } from "../state/atomic.ts";
import {
  ensureOwnedDirectory,
  openOwnedDirectory,
  refuseUntrustedLinks,
} from "../state/owned-dir.ts";
import { openAppendNoFollow } from "../state/safe-create.ts";
import {
  readFileBounded,
  unsafe,
  untrustedComponent,
} from "../state/safe-fs.ts";

/** The largest file setup backs up: far above any config it replaces. */
const MAX_BACKUP_BYTES = 4 * 1024 * 1024;

/**
 * Why root must not edit this daemon config, or undefined. Every directory on the way and every
 * link must be root's alone (so nobody else can point the path elsewhere); the file itself may
 * be the daemon's (Debian ships bacula-sd.conf as bacula:bacula 0640) when it is a regular file
 * with one name: its owner could write it anyway, and it is replaced by rename, keeping owner
 * and mode.
 */
export function untrustedDaemonConfig(
  path: string,
  depth = 0,
): string | undefined {
  const why = untrustedComponent(dirname(path));
  if (why) return why;
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) {
    if (stats.uid !== 0)
      return `${path} is a symbolic link owned by uid ${stats.uid}`;
    if (depth > 16) return `${path}: too many levels of links`;
    const target = resolve(dirname(path), readlinkSync(path));
    return untrustedDaemonConfig(target, depth + 1);
  }
  if (!stats.isFile()) return `${path} is not a regular file`;
  if (stats.nlink > 1) return `${path} has ${stats.nlink} hard links`;
  return undefined;
}

export const BACKUP_SUFFIX = ".magchanger-bak";

export interface Ownership {
  uid: number;
  gid: number;
}

export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function fail(path: string, action: string, error: unknown): never {
  const link =
    errnoCode(error) === "ELOOP"
      ? `${(error as { path?: string }).path ?? path} is a symbolic link root does not follow there; remove it and rerun setup --write, `
      : "";
  throw new AppError(
    `cannot ${action} ${path}: ${describeErrno(error)}; ${link}nothing after it was changed`,
    { cause: error },
  );
}

/**
 * Replaces path with data through the state layer's temp + fsync + rename + directory fsync
 * (readers such as udev, autofs and Bacula see the old file or the new one, never a part), then
 * sets owner and mode. The temp file is created with the final mode, so a key or a password is
 * never readable by others, not even for a moment.
 */
export function writeFileReplacing(
  path: string,
  data: string | Uint8Array,
  mode: number,
  owner: Ownership | undefined,
): void {
  writeFileAtomic(path, data, mode);
  if (owner) chownIfNeeded(path, owner);
  chmodIfNeeded(path, mode);
}

/** The first free FILE.magchanger-bak[.N]: an earlier backup (the admin's original) is never overwritten. */
export function backupPath(path: string): string {
  let candidate = `${path}${BACKUP_SUFFIX}`;
  for (let n = 2; lstatOrUndefined(candidate); n++)
    candidate = `${path}${BACKUP_SUFFIX}.${n}`;
  return candidate;
}

/**
 * Copies path (a file or a symlink) to its backup name with the same content, mode and owner.
 * content: what the caller already read of it, bounded; backed up instead of reading path again
 * (a daemon config its daemon's user owns may have grown, or changed, since).
 */
export function backup(path: string, content?: Buffer): string {
  const stats = lstatSync(path);
  const target = backupPath(path);
  if (stats.isSymbolicLink()) {
    replaceSymlink(target, readlinkSync(path));
  } else {
    writeFileReplacing(
      target,
      content ??
        readFileBounded(path, {
          maxBytes: MAX_BACKUP_BYTES,
          singleLink: false,
        }),
      stats.mode & 0o7777,
      {
        uid: stats.uid,
        gid: stats.gid,
      },
    );
  }
  return target;
}

/** Creates dir and its missing parents (0755, root's), the last one with mode. Returns whether it created it. */
export function makeDir(dir: string, mode: number): boolean {
  if (existsSync(dir)) return false;
  const parent = dirname(dir);
  if (parent !== dir) makeDir(parent, 0o755);
  try {
    mkdirSync(dir, { mode });
    chmodSync(dir, mode);
  } catch (error) {
    fail(dir, "create directory", error);
  }
  return true;
}

/** Runs change on an fd of path, which must be a real file or directory (not a link, FIFO, device). */
function withNoFollowFd<T>(
  path: string,
  action: string,
  change: (fd: number, stats: Stats) => T,
): T {
  let fd: number | undefined;
  try {
    const seen = lstatSync(path);
    if (seen.isSymbolicLink())
      throw unsafe(path, "ELOOP", "a symbolic link; not followed");
    if (!seen.isFile() && !seen.isDirectory())
      throw unsafe(path, "ENOTREG", "not a regular file or directory");
    const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    const stats = fstatSync(fd);
    if (stats.dev !== seen.dev || stats.ino !== seen.ino)
      throw unsafe(path, "ECHANGED", "replaced while being opened");
    return change(fd, stats);
  } catch (error) {
    if (error instanceof AppError) throw error;
    return fail(path, action, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function chownIfNeeded(path: string, owner: Ownership): boolean {
  return withNoFollowFd(path, "change the owner of", (fd, stats) => {
    if (stats.uid === owner.uid && stats.gid === owner.gid) return false;
    fchownSync(fd, owner.uid, owner.gid);
    return true;
  });
}

export function chmodIfNeeded(path: string, mode: number): boolean {
  return withNoFollowFd(path, "change the mode of", (fd, stats) => {
    if ((stats.mode & 0o7777) === mode) return false;
    fchmodSync(fd, mode);
    return true;
  });
}

/**
 * As root: dir made (or, with claim, taken over) for owner without following a link others
 * could have planted, chowned through its fd. Returns whether it was created and/or chowned.
 */
export function makeOwnedDir(
  dir: string,
  mode: number,
  owner: Ownership,
  claim: boolean,
): { created: boolean; chowned: boolean } {
  try {
    return ensureOwnedDirectory(dir, mode, owner, { claimExisting: claim });
  } catch (error) {
    fail(dir, "create directory", error);
  }
}

/**
 * As root: an empty file for owner (the log) made or kept, never through a link, inside its
 * directory as opened by fd; an existing one must be owner's or root's, and is handed to owner.
 */
export function touchOwned(
  path: string,
  mode: number,
  owner: Ownership,
): "created" | "changed" | "unchanged" {
  let dir: ReturnType<typeof openOwnedDirectory> | undefined;
  let fd: number | undefined;
  try {
    dir = openOwnedDirectory(dirname(path), 0o755, undefined);
    const entry = dir.entry(basename(path));
    const existed = lstatOrUndefined(entry) !== undefined;
    fd = openAppendNoFollow(entry, {
      mode,
      owners: [owner.uid, 0],
      createOwner: owner,
    });
    if (!existed) return "created";
    const stats = fstatSync(fd);
    if (stats.uid === owner.uid && stats.gid === owner.gid) return "unchanged";
    fchownSync(fd, owner.uid, owner.gid);
    return "changed";
  } catch (error) {
    if (error instanceof Error && dir)
      error.message = error.message.replaceAll(dir.entry(""), `${dir.path}/`);
    return fail(path, "install", error);
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (dir) closeSync(dir.fd);
  }
}

/**
 * Root hands the work dir, the log dir and the log to the run-as user: refuse, before any
 * write, a link on the way that someone other than root could have planted (in /var/lib/bacula,
 * say, which bacula owns), and a log that is a link at all.
 */
export function checkNoPlantedLink(
  path: string,
  kind: string,
  what: string,
): void {
  const refuse = (link: string, why: string): never => {
    throw new AppError(
      `cannot install ${path} (${what}): ${link} is a symbolic link ${why}; root does not follow it there: remove it and rerun setup --write`,
    );
  };
  try {
    refuseUntrustedLinks(dirname(path));
  } catch (error) {
    refuse(
      (error as { path?: string }).path ?? dirname(path),
      "others may have planted",
    );
  }
  if (!lstatOrUndefined(path)?.isSymbolicLink()) return;
  if (kind === "touch") refuse(path, "(a log must be a real file)");
  const why = untrustedComponent(dirname(path));
  if (why || lstatOrUndefined(path)?.uid !== 0)
    refuse(
      path,
      `in a directory others may change (${why ?? "the link is not root's"})`,
    );
}
