// The autofs bay of a LUKS changer is not looked at while no disk is unlocked: on a real kernel a
// lookup there fails, autofs remembers that for its negative timeout, and the disk plugged in
// next was then invisible to the refresh its own unlock queued (seen in the VM suite). Here the
// mount table and sysfs are given, the bay does not exist: a look would say "no such directory".
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { probeMagazine } from "../../src/disk/discover.ts";
import { noDiskUnlocked } from "../../src/disk/unlocked.ts";
import type { MountEntry } from "../../src/system/mounts.ts";
import type { System } from "../../src/system/system.ts";
import { exec } from "../../src/system/exec.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("discover-autofs");
afterAll(() => removeTempDir(dir));
const mountDir = join(dir, "mnt");
const bay = join(mountDir, "magazine");

const config = parseConfigText(
  `name = "af"\nwork_dir = "${join(dir, "work")}"\nlog_file = "${join(dir, "af.log")}"\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "${bay}"\n[luks]\nmapper = "afmap"\n`,
  join(dir, "af.toml"),
);

function system(mounts: MountEntry[], sysRoot: string): System {
  return {
    exec,
    mounts: () => mounts,
    findFilesystem: async () => undefined,
    mountPointOfDevice: () => undefined,
    sysRoot,
  };
}

const autofs: MountEntry = {
  majorMinor: "0:50",
  mountPoint: mountDir,
  fsType: "autofs",
  source: "/etc/auto.af",
};

function sysfs(name: string, dm?: { uuid: string; gone: boolean }): string {
  const root = join(dir, name);
  mkdirSync(join(root, "block"), { recursive: true });
  if (dm) {
    const d = join(root, "block/dm-0");
    mkdirSync(join(d, "dm"), { recursive: true });
    mkdirSync(join(d, "slaves"));
    writeFileSync(join(d, "dm/name"), "afmap\n");
    writeFileSync(join(d, "dm/uuid"), `${dm.uuid}\n`);
    writeFileSync(join(d, "dev"), "253:0\n");
    symlinkSync(
      dm.gone ? join(root, "gone/sdz1") : root,
      join(d, "slaves/sdz1"),
    );
  }
  return root;
}

const LUKS = "CRYPT-LUKS2-0b7f3c9e0a1b4c2d8e9f00112233aabb-afmap";

test("no mapping open: absent without a lookup of the bay", async () => {
  const status = await probeMagazine(
    config,
    1,
    system([autofs], sysfs("none")),
  );
  expect(status.present).toBe(false);
  expect(status.reason).toBe(
    "no disk is unlocked (/dev/mapper/afmap is not open); plug a magazine in (udev unlocks it)",
  );
});

test("only the stale mapping of a pulled disk: absent without a lookup", async () => {
  const status = await probeMagazine(
    config,
    1,
    system([autofs], sysfs("stale", { uuid: LUKS, gone: true })),
  );
  expect(status.reason).toStartWith(
    "the disk of /dev/mapper/afmap is gone (pulled without eject)",
  );
});

test("a disk unlocked, or no autofs above the bay: the bay is looked at", async () => {
  const lookedAt = `nothing is mounted at ${bay} (no such directory)`;
  const unlocked = await probeMagazine(
    config,
    1,
    system([autofs], sysfs("open", { uuid: LUKS, gone: false })),
  );
  expect(unlocked.reason).toBe(lookedAt);
  const plain = await probeMagazine(config, 1, system([], sysfs("plain")));
  expect(plain.reason).toBe(lookedAt);
});

// `loaded` resolves the drive link through the bay: the same holds for anything below it.
test("a drive link's target below the bay is not resolved while no disk is unlocked", () => {
  const sys = system([autofs], sysfs("target"));
  expect(
    noDiskUnlocked(config, `${bay}/.magchanger-x/../af_0001_0001`, sys),
  ).toStartWith("no disk is unlocked");
  expect(
    noDiskUnlocked(config, join(dir, "elsewhere/vol"), sys),
  ).toBeUndefined();
});

// Each autofs bay has its own mapping: bay 2 holds no disk while only bay 1's is open.
test("several bays: each is judged by its own mapping", () => {
  const bay2 = join(mountDir, "magazine2");
  const two = parseConfigText(
    `name = "af"\nwork_dir = "${join(dir, "work")}"\nlog_file = "${join(dir, "af.log")}"\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "${bay}"\n[[magazine]]\npath = "${bay2}"\nmapper = "afmap2"\n[luks]\nmapper = "afmap"\n`,
    join(dir, "af2.toml"),
  );
  const onlyFirst = system(
    [autofs],
    sysfs("first", { uuid: LUKS, gone: false }),
  );
  expect(noDiskUnlocked(two, bay, onlyFirst)).toBeUndefined();
  expect(noDiskUnlocked(two, `${bay2}/af_0002_0001`, onlyFirst)).toBe(
    "no disk is unlocked (/dev/mapper/afmap2 is not open); plug a magazine in (udev unlocks it)",
  );
  const root = sysfs("second");
  const d = join(root, "block/dm-3");
  mkdirSync(join(d, "dm"), { recursive: true });
  mkdirSync(join(d, "slaves"));
  writeFileSync(join(d, "dm/name"), "afmap2\n");
  writeFileSync(
    join(d, "dm/uuid"),
    "CRYPT-LUKS2-0b7f3c9e0a1b4c2d8e9f00112233aabb-afmap2\n",
  );
  writeFileSync(join(d, "dev"), "253:3\n");
  symlinkSync(join(root, "gone/sdy1"), join(d, "slaves/sdy1"));
  const onlySecondGone = system([autofs], root);
  expect(noDiskUnlocked(two, bay, onlySecondGone)).toStartWith(
    "no disk is unlocked (/dev/mapper/afmap is not open)",
  );
  expect(noDiskUnlocked(two, bay2, onlySecondGone)).toStartWith(
    "the disk of /dev/mapper/afmap2 is gone (pulled without eject)",
  );
});

test("refresh's wait for a just-unlocked bay drops the mount table it read once its lookup mounted the disk", async () => {
  // The rest of that refresh (the no-room check of a waiting job, the space meter) must see the
  // disk autofs just mounted, not the table from before the lookup.
  const { awaitUnlockedBays } = await import("../../src/disk/bay-wait.ts");
  mkdirSync(bay, { recursive: true });
  let forgotten = 0;
  const sys = {
    ...system([autofs], sysfs("mounted-now", { uuid: LUKS, gone: false })),
    forgetMounts: () => {
      forgotten += 1;
    },
  };
  const { nullLog } = await import("../../src/log.ts");
  await awaitUnlockedBays(config, sys, nullLog);
  expect(forgotten).toBe(1);
});
