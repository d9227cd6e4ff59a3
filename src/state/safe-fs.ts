// Root-safe file access for every path that the run-as user or a plugged-in disk can influence
// (the work dir, the log dir, a bay, a disk's files). The rules: never follow a link there
// (O_NOFOLLOW, lstat), never open what is not a regular file or directory (a FIFO blocks, a
// device node has side effects on open), check what was opened is what was looked at (fstat
// dev/ino against lstat), cap every read, create with O_EXCL and fchown the open fd (never
// chown by path). Failures are errno-style errors (`code`), so callers map them like any other
// fs error; describeErrno() knows the codes added here. Creating files and directories by these
// rules is in safe-create.ts.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  statSync,
  type Stats,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { describeErrno } from "../errors.ts";

/** The largest state or identity file read: far above any real one, small enough to be instant. */
export const MAX_READ_BYTES = 64 * 1024;

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;

export type UnsafeCode =
  | "ELOOP" // a symbolic link where none is followed
  | "ENOTREG" // not a regular file (FIFO, socket, device, directory)
  | "ENOTDIR"
  | "EFBIG" // larger than the read cap
  | "EMLINK" // a regular file with other hard links
  | "EOWNER" // owned by someone it must not be
  | "ECHANGED"; // replaced between the look and the open

/** The error's `detail` says what was found (never file content): "not a regular file: a FIFO". */
export function unsafe(path: string, code: UnsafeCode, detail = ""): Error {
  return Object.assign(
    new Error(`${path}: ${code}${detail ? ` (${detail})` : ""}`),
    {
      code,
      path,
      detail,
    },
  );
}

export interface ReadOptions {
  /** Cap in bytes (default MAX_READ_BYTES); a larger file is refused with EFBIG. */
  maxBytes?: number;
  /** Owners allowed (uids); any owner when unset. */
  owners?: readonly number[];
  /** Refuse a file with other hard links (default true). */
  singleLink?: boolean;
  /**
   * Follow a symbolic link (default false). What it leads to must still be a regular file, seen
   * before it is opened (a FIFO or a device node is never opened) and checked again on the fd.
   * Only for paths whose links root alone controls (untrustedComponent), or for reads done after
   * the drop to the run-as user (links lead only where it may read anyway).
   */
  followLinks?: boolean;
}

/** stat through links, or undefined when the path leads nowhere (or cannot be looked at). */
export function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** lstat, or undefined when nothing is there. Other errors are thrown. */
export function lstatIfExists(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export function checkOwner(
  path: string,
  stats: Stats,
  owners: readonly number[] | undefined,
): void {
  if (owners && !owners.includes(stats.uid))
    throw unsafe(
      path,
      "EOWNER",
      `owned by uid ${stats.uid}, expected ${owners.join(" or ")}`,
    );
}

/**
 * Opens path for reading without following a link at its last component, without blocking, and
 * only when it is (still) the regular file lstat saw. Returns the fd and its fstat.
 */
function openRegularForRead(
  path: string,
  options: ReadOptions,
  attempt = 0,
): { fd: number; stats: Stats } {
  const follow = options.followLinks === true;
  const seen = follow ? statSync(path) : lstatSync(path);
  if (seen.isSymbolicLink())
    throw unsafe(path, "ELOOP", "a symbolic link; not followed");
  if (!seen.isFile())
    throw unsafe(path, "ENOTREG", `not a regular file: ${kindOf(seen)}`);
  const fd = openSync(
    path,
    O_RDONLY | O_NONBLOCK | O_NOCTTY | (follow ? 0 : O_NOFOLLOW),
  );
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (stats.dev !== seen.dev || stats.ino !== seen.ino) {
    closeSync(fd);
    // An atomic writer renamed a new file in between (state files are replaced that way while
    // readers run without the lock): look again. Only a path that keeps changing is refused.
    if (attempt < 5) return openRegularForRead(path, options, attempt + 1);
    throw unsafe(path, "ECHANGED", "replaced while being opened");
  }
  try {
    if (!stats.isFile())
      throw unsafe(path, "ECHANGED", "replaced while being opened");
    checkOwner(path, stats, options.owners);
    // nlink 0: renamed over since it was opened; what was read is the old, whole file.
    if ((options.singleLink ?? true) && stats.nlink > 1)
      throw unsafe(path, "EMLINK", `${stats.nlink} hard links`);
    return { fd, stats };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Reads all of fd, refusing more than maxBytes. sizeHint (the fstat size) sizes the buffer, so a
 * 6 MiB registry is one read into one buffer; a file that grows meanwhile is still read whole.
 */
export function readFdBounded(
  fd: number,
  path: string,
  maxBytes = MAX_READ_BYTES,
  sizeHint = 0,
): Buffer {
  let buffer = Buffer.allocUnsafe(
    Math.min(maxBytes, sizeHint > 0 ? sizeHint : 64 * 1024) + 1,
  );
  let total = 0;
  for (;;) {
    if (total === buffer.length) {
      if (total > maxBytes)
        throw unsafe(path, "EFBIG", `larger than ${maxBytes} bytes`);
      const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, total * 2));
      buffer.copy(bigger, 0, 0, total);
      buffer = bigger;
    }
    const n = readSync(fd, buffer, total, buffer.length - total, null);
    if (n <= 0) break;
    total += n;
  }
  if (total > maxBytes)
    throw unsafe(path, "EFBIG", `larger than ${maxBytes} bytes`);
  return buffer.subarray(0, total);
}

/** The bytes of a regular file, read as described above. */
export function readFileBounded(
  path: string,
  options: ReadOptions = {},
): Buffer {
  const maxBytes = options.maxBytes ?? MAX_READ_BYTES;
  const { fd, stats } = openRegularForRead(path, options);
  try {
    if (stats.size > maxBytes)
      throw unsafe(path, "EFBIG", `${stats.size} bytes, more than ${maxBytes}`);
    return readFdBounded(fd, path, maxBytes, stats.size);
  } finally {
    closeSync(fd);
  }
}

export function readTextBounded(
  path: string,
  options: ReadOptions = {},
): string {
  return readFileBounded(path, options).toString("utf8");
}

/** As readTextBounded, or undefined when nothing is at path. */
export function readTextIfExists(
  path: string,
  options: ReadOptions = {},
): string | undefined {
  try {
    return readTextBounded(path, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export interface Owner {
  uid: number;
  gid: number;
}

/** lstat that requires a real directory (not a link to one): its Stats. */
export function lstatDirectory(path: string): Stats {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink())
    throw unsafe(path, "ELOOP", "a symbolic link; not followed");
  if (!stats.isDirectory())
    throw Object.assign(new Error(`${path}: ENOTDIR`), {
      code: "ENOTDIR",
      path,
    });
  return stats;
}

/** A link root may follow: its directory (and that directory's parents) only root can change. */
export function trustedLinkParent(link: string): boolean {
  return untrustedComponent(dirname(link)) === undefined;
}

/**
 * The first component of an absolute path that someone other than root could change, with why,
 * or undefined when root alone controls the whole path: each directory root's and not writable
 * by group or others (a root-owned sticky directory such as /tmp is fine: only an entry's owner
 * may replace it), and each symbolic link followed on the way inside such a directory.
 */
export function untrustedComponent(
  path: string,
  depth = 0,
): string | undefined {
  if (depth > 16) return `${path}: too many levels of links`;
  const absolute = resolve(path);
  const parts = absolute.split("/").filter(Boolean);
  let at = "/";
  for (let i = 0; i <= parts.length; i++) {
    const stats = lstatSync(at);
    if (stats.isSymbolicLink()) {
      // The link sits in a directory already found root's; in a sticky one others may add
      // links, so only a link root owns is followed (and its target checked the same way).
      if (stats.uid !== 0)
        return `${at} is a symbolic link owned by uid ${stats.uid}`;
      const target = resolve(dirname(at), readlinkSync(at));
      const rest = parts.slice(i).join("/");
      return untrustedComponent(rest ? `${target}/${rest}` : target, depth + 1);
    }
    if (stats.uid !== 0) return `${at} is owned by uid ${stats.uid}, not root`;
    if (stats.isDirectory()) {
      const writable = (stats.mode & 0o022) !== 0;
      const sticky = (stats.mode & 0o1000) !== 0;
      if (writable && !sticky)
        return `${at} is writable by ${stats.mode & 0o002 ? "others" : "its group"} (mode ${(stats.mode & 0o7777).toString(8)})`;
    } else if (i < parts.length) {
      return `${at} is not a directory`;
    }
    const next = parts[i];
    if (next === undefined) break;
    at = at === "/" ? `/${next}` : `${at}/${next}`;
  }
  return undefined;
}

/**
 * Whether a read may follow links on the way to path (ReadOptions.followLinks): not as root,
 * unless root alone controls the whole path, every link on it included.
 */
export function linksFollowable(path: string): boolean {
  if (process.geteuid?.() !== 0) return true;
  try {
    return untrustedComponent(path) === undefined;
  } catch {
    return false;
  }
}

/**
 * Why root may not unmount mountPoint by path, or undefined: umount(8) (and sync -f) resolve the
 * path again when they run, so a directory above it that someone else can change could turn it
 * into another mount point by then. unlock and eject both ask this before unmounting.
 */
export function mountPathRisk(mountPoint: string): string | undefined {
  try {
    return untrustedComponent(dirname(mountPoint));
  } catch (error) {
    return `its path cannot be checked (${describeErrno(error)})`;
  }
}

/** What an entry is, for a message: "a FIFO", "a regular file", ... */
export function kindOf(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "an entry of an unknown kind";
}
