// The seam to the OS that domain code receives as a parameter: tests hand in fakes.
import { statSync } from "node:fs";
import { type Exec, exec } from "./exec.ts";
import {
  type MountEntry,
  majorMinorOf,
  mountPointsOf,
  readMountInfo,
} from "./mounts.ts";

export interface System {
  exec: Exec;
  mounts(): MountEntry[];
  /** Drops the mount table mounts() read, after something this process did mounted a disk. */
  forgetMounts?(): void;
  /** The device node of a filesystem by UUID or label (blkid), undefined if not attached. */
  findFilesystem(
    by: "uuid" | "label",
    value: string,
  ): Promise<string | undefined>;
  /** Where a device node is mounted (the first mount point), undefined if nowhere. */
  mountPointOfDevice(device: string): string | undefined;
  /** Where sysfs is: /sys unless a test hands in a tree of its own. */
  sysRoot?: string;
}

export function realSystem(tools: { blkid: string }): System {
  let mountCache: MountEntry[] | undefined;
  const mounts = () => {
    mountCache ??= readMountInfo();
    return mountCache;
  };
  return {
    exec,
    mounts,
    forgetMounts() {
      mountCache = undefined;
    },
    async findFilesystem(by, value) {
      // blkid, not /dev/disk/by-*: those links exist only where udev runs.
      const result = await exec(
        [tools.blkid, by === "uuid" ? "-U" : "-L", value],
        { timeoutMs: 10_000 },
      );
      if (result.exitCode !== 0) return undefined;
      return result.stdout.trim().split("\n")[0] || undefined;
    },
    mountPointOfDevice(device) {
      let rdev: number;
      try {
        rdev = statSync(device).rdev;
      } catch {
        return undefined;
      }
      return mountPointsOf(mounts(), majorMinorOf(rdev))[0];
    },
  };
}
