// The per-changer lock: flock(2) on WORK_DIR/lock. The kernel releases it when the holder exits
// or is killed, so a crashed invocation never wedges the changer (vchanger's semaphore did), and
// each changer has its own file, so changers never wait on each other.
// flock comes through bun:ffi, which needs the JIT: never reach this module from `unlock`
// (systemd-udevd's MemoryDenyWriteExecute sandbox).
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, constants, fchmodSync, fstatSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  AppError,
  describeErrno,
  errnoCode,
  LockTimeoutError,
} from "../errors.ts";
import { writeFailure } from "./atomic.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

let libc:
  | { flock: (fd: number, op: number) => number; errno: () => number }
  | undefined;

function loadLibc() {
  if (!libc) {
    const lib = dlopen("libc.so.6", {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
    });
    libc = {
      flock: (fd, op) => lib.symbols.flock(fd, op),
      errno: () => {
        const pointer = lib.symbols.__errno_location();
        return pointer ? read.i32(pointer, 0) : 0;
      },
    };
  }
  return libc;
}

const {
  O_RDONLY,
  O_WRONLY,
  O_CREAT,
  O_APPEND,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_NOCTTY,
} = constants;

/**
 * Opens (creating 0600) the lock file. flock works on a read-only fd, so whoever may open the
 * file may hold the lock for ever: it must be ours alone. An older file of ours with group or
 * other bits is narrowed through the fd; one that someone else owns and others may open is
 * refused. The owner may still open it read-only (a read-only work dir's list).
 */
function openLockFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(
      path,
      O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
      0o600,
    );
  } catch (error) {
    // A read-only work dir: list, listall and slots have nothing to write, and flock works on
    // a read-only fd. A command that writes fails later, naming the state file.
    if (errnoCode(error) !== "EROFS") throw writeFailure(path, error);
    try {
      fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    } catch {
      throw writeFailure(path, error);
    }
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      throw new AppError(
        `cannot lock ${path}: not a regular file; remove it (rm ${path}) and retry`,
      );
    if ((stats.mode & 0o077) !== 0) {
      if (stats.uid !== process.geteuid?.())
        throw new AppError(
          `cannot lock changer: ${path} is owned by uid ${stats.uid} with mode ${(stats.mode & 0o777).toString(8)}, so others may hold the lock; remove it (rm ${path}) and retry`,
        );
      fchmodSync(fd, 0o600);
    }
    return fd;
  } catch (error) {
    closeSync(fd);
    if (error instanceof AppError) throw error;
    throw writeFailure(path, error);
  }
}

/** flock(fd, LOCK_EX|LOCK_NB): true when taken, false when another open file holds it. */
export function tryLockExclusive(fd: number): boolean {
  const { flock, errno } = loadLibc();
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const code = errno();
    if (code === EWOULDBLOCK) return false;
    if (code !== EINTR)
      throw new AppError(
        `flock failed with errno ${code}; check the filesystem (dmesg)`,
      );
  }
}

export interface ChangerLock {
  readonly path: string;
  release(): void;
}

export function lockPath(workDir: string): string {
  return join(workDir, "lock");
}

/** Takes the changer's exclusive lock, waiting at most timeoutSeconds. */
export function acquireLock(
  workDir: string,
  timeoutSeconds: number,
  changerName: string,
): ChangerLock {
  return acquireFileLock(
    lockPath(workDir),
    timeoutSeconds,
    (path) =>
      `changer ${changerName} is busy: another magchanger held ${path} for more than ${timeoutSeconds} s; ` +
      `find it with \`fuser -v ${path}\` or raise lock_timeout`,
  );
}

/** An exclusive flock on path (made the caller's, 0600, never through a link), bounded. */
export function acquireFileLock(
  path: string,
  timeoutSeconds: number,
  busy: (path: string) => string,
): ChangerLock {
  const fd = openLockFile(path);
  const { flock, errno } = loadLibc();
  const deadline = performance.now() + timeoutSeconds * 1000;
  let pause = 1;
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) break;
    const code = errno();
    if (code !== EWOULDBLOCK && code !== EINTR) {
      closeSync(fd);
      throw new AppError(
        `cannot lock ${path}: flock failed with errno ${code}; check the filesystem of ${dirname(path)} (dmesg)`,
      );
    }
    if (performance.now() >= deadline) {
      closeSync(fd);
      throw new LockTimeoutError(busy(path));
    }
    Bun.sleepSync(pause);
    pause = Math.min(pause * 2, 25);
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        closeSync(fd);
      } catch (error) {
        throw new AppError(`cannot release ${path}: ${describeErrno(error)}`);
      }
    },
  };
}
