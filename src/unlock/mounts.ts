// The mounts of a mapping and whether this process can undo them. systemd-udevd runs RUN+=
// programs with PrivateMounts=yes: an unmount there fails or only changes udev's private copy of
// the mount table, never the host's. So from udev we report the mounts instead of "unmounting".
import { readlinkSync, statSync } from "node:fs";
import { dmMapping } from "../system/dm.ts";
import {
  type MountEntry,
  majorMinorOf,
  mountsOfDevice,
  parseMountInfo,
} from "../system/mounts.ts";

/**
 * The mounts of /dev/mapper/NAME, deepest first (so nested mounts go before their parents).
 * Matched by the device's major:minor only, never by the source string: anyone may mount a FUSE
 * filesystem with fsname=/dev/mapper/NAME on a path of theirs, and root then unmounts it. Without
 * the device there is nothing of it to unmount; an anonymous device (major 0) is never a dm one.
 */
export function mountsOfMapping(
  mountinfo: string,
  name: string,
  sysRoot = "/sys",
): MountEntry[] {
  const devno = mapperDevno(name, `/dev/mapper/${name}`, sysRoot);
  if (devno === undefined || devno.startsWith("0:")) return [];
  return mountsOfDevice(parseMountInfo(mountinfo), devno).sort(
    (a, b) => b.mountPoint.length - a.mountPoint.length,
  );
}

/** major:minor of the dm device called name, from its node or from sysfs (udev may not have made the node). */
function mapperDevno(
  name: string,
  node: string,
  sysRoot: string,
): string | undefined {
  try {
    const stats = statSync(node);
    if (stats.isBlockDevice()) return majorMinorOf(stats.rdev);
  } catch {
    // no node: ask sysfs
  }
  return dmMapping(name, sysRoot)?.devno;
}

/**
 * Why unmounting from this process would not reach the host's mount table, or undefined if it
 * would. udev's RUN+= environment carries SEQNUM and DEVPATH; a mount namespace other than PID
 * 1's (when it can be read) is the same situation under another manager.
 */
export function mountsUnreachable(
  env: Record<string, string | undefined>,
): string | undefined {
  if (env.SEQNUM !== undefined && env.DEVPATH !== undefined) {
    return "udev's sandbox (systemd-udevd runs RUN+= programs with PrivateMounts=yes)";
  }
  try {
    if (readlinkSync("/proc/self/ns/mnt") !== readlinkSync("/proc/1/ns/mnt"))
      return "a private mount namespace";
  } catch {
    // /proc/1/ns/mnt is unreadable without CAP_SYS_PTRACE: assume the host's namespace
  }
  return undefined;
}
