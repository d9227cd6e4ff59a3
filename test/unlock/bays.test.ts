// Several autofs bays, each with its own mapping name: unlock opens a disk under the first free
// (or stale) name, refuses when every bay holds an attached disk, and remove / release-stale
// touch only the mapping of the disk that went. Real LUKS2 images on loop devices; fake
// cryptsetup open/close/status and umount, each mapping its own dm-N in a fake sysfs (fakes.ts).
import { skipUnless } from "../helpers/capabilities.ts";
import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  test,
} from "bun:test";
import {
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config/schema.ts";
import { exec } from "../../src/system/exec.ts";
import {
  releaseStaleMappings,
  removeMapping,
  type UnlockDeps,
  unlockDevice,
} from "../../src/unlock/unlock.ts";
import { memoryLog } from "../helpers/log.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  createFakeTools,
  createLuksDisk,
  createPlainDisk,
  type FakeTools,
  type LoopDisk,
  writeConfig,
  writeKeyFile,
} from "./fakes.ts";

const SUITE = "unlock with several bays";

describe.skipIf(skipUnless(["luks"], SUITE))(SUITE, () => {
  let root: string;
  let keyFile: string;
  let luks: LoopDisk;
  let luks2: LoopDisk;
  let plain: LoopDisk;
  let uuid2: string;
  let fakes: FakeTools;
  let config: Config;
  let log: ReturnType<typeof memoryLog>;
  let deps: UnlockDeps;
  let dir: string;
  let n = 0;
  const m1 = () => `mgb${process.pid}x${n}`;
  const m2 = () => `mgb${process.pid}x${n}b`;
  const bay1 = () => join(dir, "mnt", "magazine");
  const bay2 = () => join(dir, "mnt", "magazine2");

  beforeAll(() => {
    root = makeTempDir("unlock-bays");
    keyFile = writeKeyFile(join(root, "luks.key"), "unlock-bays-secret-51c2");
    luks = createLuksDisk(root, "luks", keyFile);
    luks2 = createLuksDisk(root, "luks2", keyFile);
    plain = createPlainDisk(root, "plain");
    uuid2 = Bun.spawnSync(["cryptsetup", "luksUUID", luks2.device])
      .stdout.toString()
      .trim();
  });

  afterAll(() => {
    luks?.detach();
    luks2?.detach();
    plain?.detach();
    if (root) removeTempDir(root);
  });

  beforeEach(() => {
    n += 1;
    dir = join(root, `case${n}`);
    mkdirSync(dir);
    fakes = createFakeTools(dir);
    config = writeConfig(join(dir, "c.toml"), {
      dir,
      mapper: m1(),
      keyFile,
      tools: fakes,
      bays: [{ key: "magazine2", mapper: m2() }],
    });
    log = memoryLog();
    const mountinfo = join(dir, "mountinfo");
    writeFileSync(mountinfo, "22 1 0:20 / / rw,relatime - ext4 /dev/vda rw\n");
    deps = {
      exec,
      log,
      env: {},
      mountinfoPath: mountinfo,
      sysRoot: join(dir, "sys"),
    };
  });

  const actions = (...which: string[]) =>
    fakes
      .calls()
      .filter((c) => which.includes(c[1] as string))
      .map((c) => `${c[1]} ${c.at(-1)}`);

  test("a second disk plugged while the first is open is opened under bay 2's mapper", async () => {
    expect(await unlockDevice(config, luks.device, deps)).toEqual({
      outcome: "opened",
      name: m1(),
    });
    expect(await unlockDevice(config, luks2.device, deps)).toEqual({
      outcome: "opened",
      name: m2(),
    });
    expect(fakes.mapping(m1())).toBe(luks.device);
    expect(fakes.mapping(m2())).toBe(luks2.device);
    expect(actions("open", "close")).toEqual([`open ${m1()}`, `open ${m2()}`]);
    expect(log.lines).toContain(
      `info: opened ${luks2.device} (LUKS UUID ${uuid2}) as /dev/mapper/${m2()} (bay 2, ${bay2()})`,
    );
  });

  test("a repeated event for the disk in bay 2 is already open there: nothing opens, bay 1 stays free", async () => {
    fakes.setMapping(m2(), luks.device);
    expect(await unlockDevice(config, luks.device, deps)).toEqual({
      outcome: "already-open",
      name: m2(),
    });
    expect(actions("open", "close")).toEqual([]);
    expect(fakes.mapping(m1())).toBeUndefined();
  });

  test("every bay holds an attached disk: one line naming each, nothing opened or closed", async () => {
    fakes.setMapping(m1(), luks.device);
    fakes.setMapping(m2(), plain.device);
    const error = await unlockDevice(config, luks2.device, deps).catch(
      (e) => e,
    );
    expect(error.message).toBe(
      `every bay of changer unlocktest holds a disk: /dev/mapper/${m1()} is open on ${luks.device} (bay 1, ${bay1()}), /dev/mapper/${m2()} on ${plain.device} (bay 2, ${bay2()}); not opening ${luks2.device}: eject one (magchanger eject -c ${config.source} BAY) and unplug it, then plug this disk in again`,
    );
    expect(actions("open", "close")).toEqual([]);
    expect(fakes.mapping(m1())).toBe(luks.device);
    expect(fakes.mapping(m2())).toBe(plain.device);
  });

  test("bay 1's mapping is stale (its disk pulled): released and reused; bay 2 untouched", async () => {
    fakes.setMapping(m1(), "(null)");
    fakes.setMapping(m2(), luks2.device);
    expect(await unlockDevice(config, luks.device, deps)).toEqual({
      outcome: "opened",
      name: m1(),
    });
    expect(actions("open", "close")).toEqual([`close ${m1()}`, `open ${m1()}`]);
    expect(fakes.mapping(m2())).toBe(luks2.device);
  });

  test("bay 1's stale mapping still held by a job: marked for removal, the disk opens in bay 2", async () => {
    fakes.setMapping(m1(), "(null)");
    fakes.setBusy(m1(), "/nowhere/held-by-a-job");
    expect(await unlockDevice(config, luks.device, deps)).toEqual({
      outcome: "opened",
      name: m2(),
    });
    expect(fakes.deferred(m1())).toBe(true);
    expect(fakes.mapping(m2())).toBe(luks.device);
  });

  test("a device-mapper device that is not LUKS under bay 2's name is never touched; the refusal names it", async () => {
    fakes.setMapping(m1(), luks.device);
    fakes.setForeign(m2());
    const error = await unlockDevice(config, luks2.device, deps).catch(
      (e) => e,
    );
    expect(error.message).toBe(
      `/dev/mapper/${m2()} exists but is not a LUKS mapping made by cryptsetup (device-mapper UUID "LVM-Xk3fTq0PqE3mYw2Vg9cH1sZr7uJd4nB6aC8eF5hG2iK1lM0oN9pQ7rS6tU5vW4xY"); not touching it: give magazine[2] of ${config.source} another mapper`,
    );
    expect(actions("open", "close")).toEqual([]);
  });

  describe("remove", () => {
    test("the pulled disk of bay 2: its mapping is closed, bay 1's left alone", async () => {
      fakes.setMapping(m1(), luks.device);
      fakes.setMapping(m2(), "(null)", "sdx1");
      expect(await removeMapping(config, m1(), "/dev/sdx1", deps)).toBe(
        "closed",
      );
      expect(actions("close")).toEqual([`close ${m2()}`]);
      expect(fakes.mapping(m1())).toBe(luks.device);
      expect(fakes.mapping(m2())).toBeUndefined();
    });

    test("the pulled disk of bay 1: its mapping is closed, bay 2's left alone", async () => {
      fakes.setMapping(m1(), "(null)", "sdy1");
      fakes.setMapping(m2(), luks2.device);
      expect(await removeMapping(config, m1(), "/dev/sdy1", deps)).toBe(
        "closed",
      );
      expect(actions("close")).toEqual([`close ${m1()}`]);
      expect(fakes.mapping(m2())).toBe(luks2.device);
    });

    // sd numbers are reused: a disk plugged in since may be sdx1 too, but its link is present.
    test("two mappings on a disk of the removed name: only the one whose disk is gone is closed", async () => {
      fakes.setMapping(m1(), "(null)", "sdx1");
      fakes.setMapping(m2(), luks2.device);
      const slaves = join(fakes.dmDir(m2()), "slaves");
      const [entry] = readdirSync(slaves);
      const link = join(slaves, entry as string);
      const target = readlinkSync(link);
      rmSync(link);
      symlinkSync(target, join(slaves, "sdx1"));
      expect(await removeMapping(config, m1(), "/dev/sdx1", deps)).toBe(
        "closed",
      );
      expect(actions("close")).toEqual([`close ${m1()}`]);
      expect(fakes.mapping(m2())).toBe(luks2.device);
    });

    test("a device-mapper device that is not LUKS under bay 2's name is left alone; bay 1's pulled disk is closed", async () => {
      fakes.setMapping(m1(), "(null)", "sdy1");
      fakes.setForeign(m2());
      expect(await removeMapping(config, m1(), "/dev/sdy1", deps)).toBe(
        "closed",
      );
      expect(actions("close")).toEqual([`close ${m1()}`]);
      expect(log.lines).toContain(
        `warn: /dev/mapper/${m2()} exists but is not a LUKS mapping made by cryptsetup (device-mapper UUID "LVM-Xk3fTq0PqE3mYw2Vg9cH1sZr7uJd4nB6aC8eF5hG2iK1lM0oN9pQ7rS6tU5vW4xY"); not touching it: give magazine[2] of ${config.source} another mapper; left alone`,
      );
    });

    test("a disk no bay holds: every mapping is left alone, a stale one of another disk too", async () => {
      fakes.setMapping(m1(), luks.device);
      fakes.setMapping(m2(), "(null)", "sdx1");
      expect(await removeMapping(config, m1(), "/dev/sdq1", deps)).toBe(
        "left-alone",
      );
      expect(actions("close")).toEqual([]);
      expect(fakes.mapping(m2())).toBe("(null)");
    });
  });

  test("release-stale closes every mapping of this changer whose disk is gone, and only those", async () => {
    fakes.setMapping(m1(), luks.device);
    fakes.setMapping(m2(), "(null)", "sdx1");
    expect(await releaseStaleMappings(config, deps)).toEqual([
      { name: m1(), outcome: "attached" },
      { name: m2(), outcome: "closed" },
    ]);
    expect(actions("close")).toEqual([`close ${m2()}`]);
    expect(fakes.mapping(m1())).toBe(luks.device);
    expect(log.lines).toContain(
      `warn: /dev/mapper/${m2()} is a stale mapping of sdx1, which is gone; releasing it`,
    );
  });
});
