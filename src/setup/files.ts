// File operations for setup: crash-safe replacement that keeps owner and mode, and backups.
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  type Stats,
  statSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { AppError, describeErrno } from "../errors.ts";

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
  throw new AppError(
    `cannot ${action} ${path}: ${describeErrno(error)}; nothing after it was changed`,
    { cause: error },
  );
}

let counter = 0;
function tempFor(path: string): string {
  counter += 1;
  return join(
    dirname(path),
    `.${basename(path)}.magchanger-tmp-${process.pid}-${counter}`,
  );
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch (error) {
    fail(dir, "sync directory", error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replaces path with data: temp file with the final mode and owner, fsync, rename, fsync of the
 * directory. Readers (udev, autofs, Bacula) see the old file or the new one, never a partial one,
 * and a key or a password is never readable by others, not even for a moment.
 */
export function writeFileReplacing(
  path: string,
  data: string | Uint8Array,
  mode: number,
  owner: Ownership | undefined,
): void {
  const temp = tempFor(path);
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx", mode & 0o600);
    let offset = 0;
    while (offset < bytes.length)
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    if (owner) chownSync(temp, owner.uid, owner.gid);
    chmodSync(temp, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was not created or already renamed
    }
    fail(path, "write", error);
  }
  syncDir(dirname(path));
}

/** Points path at target through a temp link and a rename (never a moment without the link). */
export function replaceSymlink(path: string, target: string): void {
  const temp = tempFor(path);
  try {
    symlinkSync(target, temp);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // not created
    }
    fail(path, "link", error);
  }
  syncDir(dirname(path));
}

/** The first free FILE.magchanger-bak[.N]: an earlier backup (the admin's original) is never overwritten. */
export function backupPath(path: string): string {
  let candidate = `${path}${BACKUP_SUFFIX}`;
  for (let n = 2; lstatOrUndefined(candidate); n++)
    candidate = `${path}${BACKUP_SUFFIX}.${n}`;
  return candidate;
}

/** Copies path (a file or a symlink) to its backup name with the same content, mode and owner. */
export function backup(path: string): string {
  const stats = lstatSync(path);
  const target = backupPath(path);
  if (stats.isSymbolicLink()) {
    replaceSymlink(target, readlinkSync(path));
  } else {
    writeFileReplacing(target, readFileSync(path), stats.mode & 0o7777, {
      uid: stats.uid,
      gid: stats.gid,
    });
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

export function chownIfNeeded(path: string, owner: Ownership): boolean {
  const stats = statSync(path);
  if (stats.uid === owner.uid && stats.gid === owner.gid) return false;
  try {
    chownSync(path, owner.uid, owner.gid);
  } catch (error) {
    fail(path, "change the owner of", error);
  }
  return true;
}

export function chmodIfNeeded(path: string, mode: number): boolean {
  if ((statSync(path).mode & 0o7777) === mode) return false;
  try {
    chmodSync(path, mode);
  } catch (error) {
    fail(path, "change the mode of", error);
  }
  return true;
}
