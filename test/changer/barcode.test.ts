import { expect, test } from "bun:test";
import { isVolumeName, volumeName } from "../../src/disk/barcode.ts";

test("volume names are barcodes Bacula accepts and listall can split", () => {
  for (const ok of ["usbchanger1_0004_0008", "A", "vol-1.2", "x".repeat(127)])
    expect(isVolumeName(ok)).toBe(true);
  for (const bad of [
    "",
    ".hidden",
    "a:b",
    "a b",
    "a/b",
    "ä",
    "x".repeat(128),
    "README*",
    "vol\n",
  ]) {
    expect(isVolumeName(bad)).toBe(false);
  }
});

test("documentation left on a disk is never a volume (vchanger made README one)", () => {
  for (const doc of [
    "README",
    "readme.txt",
    "README.md",
    "LICENSE",
    "notes.txt",
    "backup-plan.pdf",
    "run.log",
    "a.conf",
  ]) {
    expect(isVolumeName(doc)).toBe(false);
  }
  for (const vol of [
    "notes_0001",
    "Vol.0001",
    "usbchanger1_0004_0008",
    "index2",
  ])
    expect(isVolumeName(vol)).toBe(true);
});

test("created volumes are named as in the seed how-to", () => {
  expect(volumeName("usbchanger1", 4, 8)).toBe("usbchanger1_0004_0008");
});
