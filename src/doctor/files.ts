// Reading what is installed, for doctor's checks: a missing file is an answer, not an error.
// doctor runs as root, so a read never blocks and never opens a device (a FIFO or a node where a
// file should be is looked at, not opened), is capped, and follows a link only where root alone
// controls the path (these are root's paths, which may be links).
import { realpathSync } from "node:fs";
import { linksFollowable, readTextBounded } from "../state/safe-fs.ts";

/** Far above any udev rule, autofs map or Bacula config. */
export const MAX_INSTALLED_BYTES = 4 * 1024 * 1024;

/**
 * The text of an installed file, or undefined when it is missing, not a regular file, unreadable,
 * larger than the cap or reached through a link others may have planted.
 */
export function readIfExists(path: string): string | undefined {
  try {
    return readTextBounded(path, {
      maxBytes: MAX_INSTALLED_BYTES,
      singleLink: false,
      followLinks: linksFollowable(path),
    });
  } catch {
    return undefined;
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
