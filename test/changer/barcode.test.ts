import { expect, test } from "bun:test";
import { isVolumeName, volumeName } from "../../src/changer/barcode.ts";

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

test("created volumes are named as in the seed how-to", () => {
  expect(volumeName("usbchanger1", 4, 8)).toBe("usbchanger1_0004_0008");
});
