// Reading what is installed, for doctor's checks: a missing file is an answer, not an error.
// doctor runs as root, so a read never blocks (a FIFO where a file should be) and is capped.
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  realpathSync,
} from "node:fs";
import { readFdBounded } from "../state/safe-fs.ts";

/** Far above any udev rule, autofs map or Bacula config. */
const MAX_INSTALLED_BYTES = 4 * 1024 * 1024;

/**
 * The text of an installed file (links followed: these are root's paths, which may be links),
 * or undefined when it is missing, not a regular file, unreadable or larger than the cap.
 */
export function readIfExists(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    return readFdBounded(fd, path, MAX_INSTALLED_BYTES).toString("utf8");
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Do both paths resolve, through their links, to one path (a link to the binary, say)? */
export function resolveToOnePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
