// Crash-safe state writes: temp file in the same directory, every write checked, fsync, rename,
// fsync of the directory. A failure at any step leaves the previous file as it was and throws a
// StateWriteError naming the path and the cause (with the root-reserved-blocks hint on ENOSPC,
// the trap of the seed how-to).
import { formatBytes } from "../text.ts";
import {
  closeSync,
  fsyncSync,
  lstatSync,
  openSync,
  readlinkSync,
  renameSync,
  statfsSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  describeErrno,
  errnoCode,
  StateCorruptError,
  StateWriteError,
} from "../errors.ts";

let tempCounter = 0;
function tempPathFor(path: string): string {
  tempCounter += 1;
  return join(
    dirname(path),
    `.${basename(path)}.tmp-${process.pid}-${tempCounter}`,
  );
}

export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  /** false for caches: atomic (rename) but not fsynced; a crash loses at most the cache. */
  durable = true,
): void {
  const temp = tempPathFor(path);
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx", mode);
    let offset = 0;
    while (offset < bytes.length) {
      const written = writeSync(fd, bytes, offset, bytes.length - offset);
      if (written <= 0)
        throw Object.assign(new Error("short write"), { code: "EIO" });
      offset += written;
    }
    if (durable) fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    closeSync(closing);
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) safely(() => closeSync(fd as number));
    safely(() => unlinkSync(temp));
    throw writeFailure(path, error);
  }
  if (durable) syncDirectory(dirname(path), path);
}

/**
 * Points the symlink at target, atomically (a reader sees the old or the new link, never none).
 * Anything else at path is refused, never replaced: a regular file where a drive link should be
 * is most likely a volume the storage daemon wrote after the link vanished.
 */
export function replaceSymlink(path: string, target: string): void {
  try {
    if (readlinkSync(path) === target) return;
  } catch (error) {
    const code = errnoCode(error);
    if (code === "EINVAL") throw notALink(path);
    if (code !== "ENOENT") throw writeFailure(path, error);
  }
  const temp = tempPathFor(path);
  try {
    symlinkSync(target, temp);
    renameSync(temp, path);
  } catch (error) {
    safely(() => unlinkSync(temp));
    throw writeFailure(path, error);
  }
  syncDirectory(dirname(path), path);
}

function notALink(path: string): StateCorruptError {
  let what = "something else";
  try {
    const stats = lstatSync(path);
    what = stats.isDirectory()
      ? "a directory"
      : stats.isFile()
        ? `a regular file of ${stats.size} bytes (perhaps data Bacula wrote there)`
        : "not a symbolic link";
  } catch {
    // gone meanwhile: the generic text will do
  }
  return new StateCorruptError(
    `${path} is ${what}, not the symbolic link magchanger keeps there; nothing was changed: move it away (keep it if it holds backup data), then retry`,
  );
}

export function syncDirectory(dir: string, forPath = dir): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch (error) {
    throw writeFailure(forPath, error);
  } finally {
    if (fd !== undefined) safely(() => closeSync(fd as number));
  }
}

export function writeFailure(path: string, error: unknown): StateWriteError {
  if (error instanceof StateWriteError) return error;
  let hint = "";
  const code = errnoCode(error);
  if (code === "ENOSPC" || code === "EDQUOT") hint = spaceHint(dirname(path));
  else if (code === "EACCES" || code === "EPERM")
    hint = `; make ${dirname(path)} writable by uid ${process.getuid?.()} (magchanger setup creates it with the right owner)`;
  else if (code === "EROFS")
    hint =
      "; the filesystem is mounted read-only: check the disk (dmesg) and remount it rw";
  return new StateWriteError(
    `cannot write ${path}: ${describeErrno(error)}${hint}; the previous state is unchanged`,
    {
      cause: error,
    },
  );
}

/** Explains ENOSPC when the blocks left are the ones reserved for root (the seed's bug). */
export function spaceHint(dir: string): string {
  try {
    const fs = statfsSync(dir);
    const reserved = Number(fs.bfree) - Number(fs.bavail);
    if (Number(fs.bavail) === 0 && reserved > 0) {
      return `; only the ${reserved} blocks (${formatBytes(reserved * Number(fs.bsize))}) reserved for root are free on this filesystem, which uid ${process.getuid?.()} cannot use: free space or run \`tune2fs -m 0 DEVICE\``;
    }
    return `; ${Number(fs.bavail)} blocks free for uid ${process.getuid?.()}`;
  } catch {
    return "";
  }
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // cleanup after a failure already being reported
  }
}
