// Which mounts unlock treats as the mapping's (issue 9, item 9): by the dm device's major:minor,
// never by the source string a FUSE mount (fsname=...) or any other anonymous-device mount may
// forge. A fake mountinfo and a fake sysfs, through mountsOfMapping's seams.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mountsOfMapping } from "../../src/unlock/mounts.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const NAME = `mgm${process.pid}`;
const dir = makeTempDir("mounts");
afterAll(() => removeTempDir(dir));

function sysfs(dev: string | undefined): string {
  const root = join(dir, `sys-${dev ?? "none"}`.replace(":", "_"));
  mkdirSync(join(root, "block"), { recursive: true });
  if (dev !== undefined) {
    mkdirSync(join(root, "block/dm-3/dm"), { recursive: true });
    writeFileSync(join(root, "block/dm-3/dm/name"), `${NAME}\n`);
    writeFileSync(join(root, "block/dm-3/dev"), `${dev}\n`);
  }
  return root;
}

const MOUNTINFO = [
  "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw",
  `60 22 0:58 / /home/bacula/x rw,nosuid,nodev - fuse.sshfs /dev/mapper/${NAME} rw,user_id=110`,
  `61 22 0:59 / /tmp/y rw - tmpfs /dev/mapper/${NAME} rw`,
  "62 22 253:3 / /mnt/usb1/magazine rw,nodev - ext4 /dev/dm-3 rw",
  "63 62 253:3 /sub /mnt/usb1/magazine/deeper rw - ext4 /dev/dm-3 rw",
  "",
].join("\n");

describe("mountsOfMapping", () => {
  test("mounts of the dm device's major:minor match, deepest first, whatever their source string", () => {
    expect(
      mountsOfMapping(MOUNTINFO, NAME, sysfs("253:3")).map((m) => m.mountPoint),
    ).toEqual(["/mnt/usb1/magazine/deeper", "/mnt/usb1/magazine"]);
  });

  test("a FUSE or tmpfs mount whose source is /dev/mapper/NAME never matches", () => {
    const points = mountsOfMapping(MOUNTINFO, NAME, sysfs("253:3")).map(
      (m) => m.mountPoint,
    );
    expect(points).not.toContain("/home/bacula/x");
    expect(points).not.toContain("/tmp/y");
  });

  test("without the device (no node, no sysfs entry) nothing matches, not even by source", () => {
    expect(mountsOfMapping(MOUNTINFO, NAME, sysfs(undefined))).toEqual([]);
  });

  test("a device number of major 0 (an anonymous device) is never a mapping's", () => {
    expect(mountsOfMapping(MOUNTINFO, NAME, sysfs("0:58"))).toEqual([]);
  });
});
