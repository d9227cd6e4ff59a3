// What unlock may be pointed at. udev hands over /dev/%k, but the same command is run by people
// and scripts as root: anything that is not a block device under /dev is refused before any
// tool runs (the seed script passed $1 straight to cryptsetup).
import { realpathSync, statSync } from "node:fs";
import { MAPPER_PATTERN } from "../config/schema.ts";
import { AppError, describeErrno, UsageError } from "../errors.ts";
import { kindOf } from "../state/safe-fs.ts";

/** /dev paths as udev names them (by-id, by-path links included); no shell metacharacters. */
const DEVICE_PATH = /^\/dev(\/[A-Za-z0-9_][A-Za-z0-9_.:+@=-]*)+$/;

/** Refuses a device argument that is not a plain /dev path; the device itself is not touched. */
export function checkDeviceSyntax(device: string): void {
  if (!DEVICE_PATH.test(device)) {
    throw new UsageError(
      `refusing device ${JSON.stringify(device)}: expected a block device path under /dev such as /dev/sdb1 (letters, digits and _.:+@=- only)`,
    );
  }
}

export function checkMapperName(name: string): void {
  if (!MAPPER_PATTERN.test(name)) {
    throw new UsageError(
      `refusing mapper name ${JSON.stringify(name)}: expected 1..64 of [A-Za-z0-9_.+-] starting with a letter or digit, e.g. bacula`,
    );
  }
}

/** Checks that device is a block device under /dev (following links that stay in /dev) and returns its real path. */
export function resolveBlockDevice(device: string): string {
  checkDeviceSyntax(device);
  let real: string;
  try {
    // realpath, not lstat: a link anywhere along the path (a directory too) could leave /dev.
    real = realpathSync(device);
  } catch (error) {
    throw new AppError(
      `device ${device}: ${describeErrno(error)}; was the disk removed? pass the node udev names (/dev/%k)`,
      {
        cause: error,
      },
    );
  }
  if (!DEVICE_PATH.test(real)) {
    throw new UsageError(
      `refusing device ${device}: it resolves to ${real}, outside /dev; pass the device node itself`,
    );
  }
  const stats = statSync(real);
  if (!stats.isBlockDevice()) {
    throw new UsageError(
      `refusing device ${device}: it is ${kindOf(stats)}, not a block device; pass a disk partition such as /dev/sdb1`,
    );
  }
  return real;
}

/** True when path names an existing block device. */
export function isBlockDevice(path: string): boolean {
  try {
    return statSync(path).isBlockDevice();
  } catch {
    return false;
  }
}

/** True when both paths name the same block device node (same major:minor). */
export function sameBlockDevice(a: string, b: string): boolean {
  try {
    const left = statSync(a);
    const right = statSync(b);
    return (
      left.isBlockDevice() && right.isBlockDevice() && left.rdev === right.rdev
    );
  } catch {
    return false;
  }
}
