// The per-changer lock: flock(2) on WORK_DIR/lock. The kernel releases it when the holder exits
// or is killed, so a crashed invocation never wedges the changer (vchanger's semaphore did), and
// each changer has its own file, so changers never wait on each other.
// flock comes through bun:ffi, which needs the JIT: never reach this module from `unlock`
// (systemd-udevd's MemoryDenyWriteExecute sandbox).
import { dlopen, FFIType, read } from "bun:ffi";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { describeErrno, LockTimeoutError } from "../errors.ts";
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
  const path = lockPath(workDir);
  let fd: number;
  try {
    fd = openSync(path, "a", 0o660);
  } catch (error) {
    throw writeFailure(path, error);
  }
  const { flock, errno } = loadLibc();
  const deadline = performance.now() + timeoutSeconds * 1000;
  let pause = 1;
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) break;
    const code = errno();
    if (code !== EWOULDBLOCK && code !== EINTR) {
      closeSync(fd);
      throw new LockTimeoutError(
        `cannot lock ${path}: flock failed with errno ${code}`,
      );
    }
    if (performance.now() >= deadline) {
      closeSync(fd);
      throw new LockTimeoutError(
        `changer ${changerName} is busy: another magchanger held ${path} for more than ${timeoutSeconds} s; ` +
          `find it with \`fuser -v ${path}\` or raise lock_timeout`,
      );
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
        throw new LockTimeoutError(
          `cannot release ${path}: ${describeErrno(error)}`,
        );
      }
    },
  };
}
