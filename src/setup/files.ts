// File operations for setup: crash-safe replacement that keeps owner and mode, and backups.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  type Stats,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import { AppError, describeErrno } from "../errors.ts";
import { replaceSymlink, writeFileAtomic } from "../state/atomic.ts";

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
