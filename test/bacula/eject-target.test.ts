import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseStorageStatus } from "../../src/bacula/sd-status.ts";
import {
  describeUse,
  diskMountAt,
  mappingOf,
  volumesInUse,
} from "../../src/bacula/eject-target.ts";

// Captured from the real Bacula 9.6.7 of test/e2e/bacula/eject.test.ts: a restore reading a
// volume, its device shown as `Device File is "NAME" (...) mounted with:` (no colon).
const READING = readFileSync(
  join(import.meta.dir, "fixtures", "sd-status-reading-mounted.txt"),
  "utf8",
);

test("a restore reading a volume of the disk is a use that names the job, the volume and the drive", () => {
  const status = parseStorageStatus(READING);
  const reading = status.find((d) => d.state === "reading");
  expect(reading?.volume).toMatch(/^mcej_0001_000[12]$/);
  const volumes = new Set(["mcej_0001_0001", "mcej_0001_0002"]);
  expect(volumesInUse(status, volumes).map(describeUse)).toEqual([
    `job mc-restore (JobId 2) is reading volume ${reading?.volume} on drive ${reading?.drive}`,
  ]);
  expect(volumesInUse(status, new Set(["mcej_0002_0001"]))).toEqual([]);
});

test("the disk's mount is found by its mount point, never the autofs trigger on it", () => {
  const mounts = [
    {
      majorMinor: "0:50",
      mountPoint: "/mnt/usb/magazine",
      fsType: "autofs",
      source: "/etc/auto.magchanger",
    },
    {
      majorMinor: "254:0",
      mountPoint: "/mnt/usb/magazine",
      fsType: "ext4",
      source: "/dev/mapper/bacula",
    },
  ];
  expect(diskMountAt(mounts, "/mnt/usb/magazine/")?.majorMinor).toBe("254:0");
  expect(diskMountAt(mounts.slice(0, 1), "/mnt/usb/magazine")).toBeUndefined();
});

test("a /dev/mapper source whose node is not the mounted device is no mapping to close", () => {
  expect(
    mappingOf({
      majorMinor: "7:99",
      mountPoint: "/x",
      fsType: "fuse",
      source: "/dev/mapper/bacula",
    }),
  ).toBeUndefined();
  expect(
    mappingOf({
      majorMinor: "8:1",
      mountPoint: "/x",
      fsType: "ext4",
      source: "/dev/sda1",
    }),
  ).toBeUndefined();
});
