// unlockDevice / removeMapping against real LUKS2 images on loop devices and fake
// cryptsetup open/close/status and umount (no device-mapper in this kernel; see fakes.ts).
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
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config/schema.ts";
import { AppError, ToolError } from "../../src/errors.ts";
import { exec } from "../../src/system/exec.ts";
import { markWaiting, openIfWaiting } from "../../src/unlock/waiting-disks.ts";
import {
  releaseStaleMapping,
  removeMapping,
  type UnlockDeps,
  unlockDevice,
} from "../../src/unlock/unlock.ts";
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
import { memoryLog } from "../helpers/log.ts";
import { ensureTestUser } from "../helpers/users.ts";

const SECRET = "unlock-test-secret-7f3a9c";

const SUITE = "unlock";

describe.skipIf(skipUnless(["luks"], SUITE))(SUITE, () => {
  let root: string;
  let keyFile: string;
  let luks: LoopDisk;
  let plain: LoopDisk;
  let uuid: string;
  let fakes: FakeTools;
  let config: Config;
  let log: ReturnType<typeof memoryLog>;
  let mountinfo: string;
  let deps: UnlockDeps;
  let n = 0;
  const mapper = () => `mgt${process.pid}x${n}`;

  beforeAll(() => {
    root = makeTempDir("unlock");
    keyFile = writeKeyFile(join(root, "luks.key"), SECRET);
    luks = createLuksDisk(root, "luks", keyFile);
    plain = createPlainDisk(root, "plain");
    uuid = Bun.spawnSync(["cryptsetup", "luksUUID", luks.device])
      .stdout.toString()
      .trim();
  });

  afterAll(() => {
    luks?.detach();
    plain?.detach();
    if (root) removeTempDir(root);
  });

  beforeEach(() => {
    n += 1;
    const dir = join(root, `case${n}`);
    mkdirSync(dir);
    fakes = createFakeTools(dir);
    config = writeConfig(join(dir, "c.toml"), {
      dir,
      mapper: mapper(),
      keyFile,
      tools: fakes,
    });
    log = memoryLog();
    mountinfo = join(dir, "mountinfo");
    writeFileSync(mountinfo, "22 1 0:20 / / rw,relatime - ext4 /dev/vda rw\n");
    // The fakes show each mapping in DIR/sys as the kernel does: mounts are matched by 253:0.
    deps = {
      exec,
      log,
      env: {},
      mountinfoPath: mountinfo,
      sysRoot: join(dir, "sys"),
    };
  });

  const opens = () => fakes.calls().filter((c) => c[1] === "open");

  test("opens a LUKS disk with --key-file PATH; the key itself is never in argv or the log", async () => {
    expect((await unlockDevice(config, luks.device, deps)).outcome).toBe(
      "opened",
    );
    expect(opens()).toEqual([
      [
        "cryptsetup",
        "open",
        "--type",
        "luks",
        "--key-file",
        keyFile,
        "--",
        luks.device,
        mapper(),
      ],
    ]);
    expect(fakes.mapping(mapper())).toBe(luks.device);
    expect(JSON.stringify(fakes.calls())).not.toContain(SECRET);
    expect(log.lines.join("\n")).not.toContain(SECRET);
    expect(log.lines).toContain(
      `info: opened ${luks.device} (LUKS UUID ${uuid}) as /dev/mapper/${mapper()}`,
    );
  });

  test("a repeated event for the same disk is success and opens nothing", async () => {
    await unlockDevice(config, luks.device, deps);
    expect((await unlockDevice(config, luks.device, deps)).outcome).toBe(
      "already-open",
    );
    expect(opens()).toHaveLength(1);
    expect(fakes.calls().filter((c) => c[1] === "close")).toEqual([]);
  });

  test("a wrong key fails with exit 8 and says which key file does not open which disk", async () => {
    const wrong = writeKeyFile(join(fakes.dir, "wrong.key"), "not-the-key");
    const other = { ...config, luks: { ...config.luks, key_file: wrong } };
    const error = await unlockDevice(other, luks.device, deps).catch((e) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error.exitCode).toBe(8);
    expect(error.message).toStartWith(
      `wrong key: ${wrong} does not unlock ${luks.device}`,
    );
    expect(fakes.mapping(mapper())).toBeUndefined();
  });

  test("a busy device (cryptsetup exit 5) is a clear error", async () => {
    fakes.failNext(
      "open",
      5,
      "Cannot use device /dev/loop9 which is in use (already mapped or mounted).",
    );
    const error = await unlockDevice(config, luks.device, deps).catch((e) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error.message).toStartWith(
      `cannot open ${luks.device} as /dev/mapper/${mapper()}: the name exists already or ${luks.device} is busy`,
    );
  });

  test("out of memory (exit 3) and unknown codes name cryptsetup's meaning and its message", async () => {
    fakes.failNext("open", 3, "Not enough available memory to open a keyslot.");
    expect(
      (await unlockDevice(config, luks.device, deps).catch((e) => e)).message,
    ).toStartWith("cryptsetup ran out of memory");
    fakes.failNext("open", 1, "Invalid argument.");
    expect(
      (await unlockDevice(config, luks.device, deps).catch((e) => e)).message,
    ).toBe(
      `${fakes.cryptsetup} open ${luks.device} failed with exit 1 (wrong parameters): Invalid argument.`,
    );
  });

  test("a disk that is not LUKS is refused before anything is opened", async () => {
    const error = await unlockDevice(config, plain.device, deps).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error.message).toStartWith(`${plain.device} is not a LUKS device`);
    expect(fakes.calls().map((c) => c[1])).toEqual(["isLuks"]);
  });

  test("a LUKS UUID outside luks.allowed_uuids is refused; a listed one (any case) opens", async () => {
    const strict = {
      ...config,
      luks: {
        ...config.luks,
        allowed_uuids: ["00000000-0000-4000-8000-000000000000"],
      },
    };
    const error = await unlockDevice(strict, luks.device, deps).catch((e) => e);
    expect(error.message).toBe(
      `${luks.device} has LUKS UUID ${uuid}, which is not in luks.allowed_uuids of ${config.source}; add it there to use this disk`,
    );
    expect(opens()).toEqual([]);
    const listed = {
      ...config,
      luks: { ...config.luks, allowed_uuids: [uuid.toUpperCase()] },
    };
    expect((await unlockDevice(listed, luks.device, deps)).outcome).toBe(
      "opened",
    );
  });

  test("a key file that group/other can read is refused before any tool runs", async () => {
    const loose = writeKeyFile(join(fakes.dir, "loose.key"), SECRET, 0o644);
    const other = { ...config, luks: { ...config.luks, key_file: loose } };
    const error = await unlockDevice(other, luks.device, deps).catch((e) => e);
    expect(error.message).toBe(
      `refusing key file ${loose}: mode 0644 lets group/other at the key; run: chmod 0400 ${loose}`,
    );
    expect(fakes.calls()).toEqual([]);
  });

  test("stale mapping of a pulled disk: lazy unmount of its mount, close, then open", async () => {
    const at = join(root, `case${n}`, "mnt/usb1/magazine");
    mkdirSync(at, { recursive: true });
    fakes.setMapping(mapper(), "(null)");
    fakes.setBusy(mapper(), at);
    writeFileSync(
      mountinfo,
      `22 1 0:20 / / rw - ext4 /dev/vda rw\n40 22 253:0 / ${at} rw,nodev - ext4 /dev/mapper/${mapper()} rw\n`,
    );
    expect((await unlockDevice(config, luks.device, deps)).outcome).toBe(
      "opened",
    );
    expect(fakes.calls().map((c) => c.slice(0, 3).join(" "))).toEqual([
      "cryptsetup isLuks --",
      "cryptsetup luksUUID --",
      "cryptsetup status --",
      "umount -l --",
      "cryptsetup close --",
      "cryptsetup open --type",
    ]);
    expect(fakes.calls()[3]).toEqual(["umount", "-l", "--", at]);
    expect(fakes.mapping(mapper())).toBe(luks.device);
    expect(log.lines).toContain(
      `warn: /dev/mapper/${mapper()} is a stale mapping of sdz1, which is gone; cleaning it up`,
    );
    expect(log.lines).toContain(
      `info: lazily unmounted ${at} (was /dev/mapper/${mapper()})`,
    );
  });

  // umount(8) resolves the path again when it runs: a directory on the way that the run-as user
  // owns could become a link to another mount point, and root would unmount that instead.
  test("a stale mount below a directory the run-as user owns is not unmounted by path: deferred close", async () => {
    const user = ensureTestUser();
    const owned = join(root, `case${n}`, "owned");
    const at = join(owned, "bay");
    mkdirSync(at, { recursive: true });
    chownSync(owned, user.uid, user.gid);
    chownSync(at, user.uid, user.gid);
    fakes.setMapping(mapper(), "(null)");
    fakes.setBusy(mapper(), at);
    writeFileSync(
      mountinfo,
      `22 1 0:20 / / rw - ext4 /dev/vda rw\n40 22 253:0 / ${at} rw,nodev - ext4 /dev/mapper/${mapper()} rw\n`,
    );
    const error = await unlockDevice(config, luks.device, deps).catch((e) => e);
    expect(error.message).toStartWith(
      `cannot open ${luks.device} as /dev/mapper/${mapper()}: the stale mapping is still in use (marked for removal once its last mount goes)`,
    );
    expect(fakes.calls().filter((c) => c[0] === "umount")).toEqual([]);
    expect(fakes.deferred(mapper())).toBe(true);
    expect(log.lines).toContain(
      `warn: not unmounting ${at}: ${owned} is owned by uid ${user.uid}, not root, so its path could lead elsewhere by the time umount runs; autofs expiry or umount -l ${at} as root (after checking it) releases it`,
    );
  });

  test("stale mapping from udev's sandbox: no unmount attempted, deferred close, and the error says what to do", async () => {
    fakes.setMapping(mapper(), "/dev/sdzz9");
    fakes.setBusy(mapper(), "/mnt/usb1/magazine");
    writeFileSync(
      mountinfo,
      `40 22 253:0 / /mnt/usb1/magazine rw - ext4 /dev/mapper/${mapper()} rw\n`,
    );
    const udev = {
      ...deps,
      env: {
        ACTION: "add",
        SEQNUM: "4711",
        DEVPATH: "/devices/virtual/block/loop0",
        DEVNAME: luks.device,
      },
    };
    const error = await unlockDevice(config, luks.device, udev).catch((e) => e);
    expect(error.message).toStartWith(
      `cannot open ${luks.device} as /dev/mapper/${mapper()}: the stale mapping is still in use (marked for removal once its last mount goes)`,
    );
    expect(fakes.calls().filter((c) => c[0] === "umount")).toEqual([]);
    expect(fakes.deferred(mapper())).toBe(true);
    expect(opens()).toEqual([]);
    expect(
      log.lines.some((l) =>
        l.startsWith(
          "warn: not unmounting /mnt/usb1/magazine: unmounting from udev's sandbox",
        ),
      ),
    ).toBe(true);
  });

  // The kernel's dm UUID tells, not cryptsetup status: for a LUKS mapping whose disk was pulled
  // it prints "type: n/a" too (seen on Debian 12's kernel), and that mapping is ours to close.
  test("a mapping of that name that is not LUKS (LVM, plain) is never closed, open or remove", async () => {
    fakes.setForeign(mapper());
    const message = `/dev/mapper/${mapper()} exists but is not a LUKS mapping made by cryptsetup (device-mapper UUID "LVM-Xk3fTq0PqE3mYw2Vg9cH1sZr7uJd4nB6aC8eF5hG2iK1lM0oN9pQ7rS6tU5vW4xY"); not touching it: give this changer another luks.mapper`;
    expect(
      (await unlockDevice(config, luks.device, deps).catch((e) => e)).message,
    ).toBe(message);
    expect(
      (await removeMapping(config, mapper(), undefined, deps).catch((e) => e))
        .message,
    ).toBe(message);
    expect(
      fakes
        .calls()
        .filter(
          (c) => c[0] === "umount" || c[1] === "close" || c[1] === "open",
        ),
    ).toEqual([]);
  });

  // sd numbers are reused: a disk plugged in after the pull may be the node cryptsetup's table
  // still names, while the kernel's link from the mapping to its own (pulled) disk dangles.
  test("a stale mapping whose pulled disk's node now names the new disk is cleaned up, not taken as already open", async () => {
    fakes.setMapping(mapper(), luks.device);
    const below = readdirSync(join(fakes.dir, "sys/block/dm-0/slaves"))[0]!;
    const link = join(fakes.dir, "sys/block/dm-0/slaves", below);
    rmSync(link);
    symlinkSync(`/sys/devices/pci0000:00/usb2/2-1/block/sdz/${below}`, link);
    expect((await unlockDevice(config, luks.device, deps)).outcome).toBe(
      "opened",
    );
    expect(
      fakes.calls().filter((c) => c[1] === "close" || c[1] === "open"),
    ).toHaveLength(2);
    expect(log.lines).toContain(
      `warn: /dev/mapper/${mapper()} is a stale mapping of ${below}, which is gone; cleaning it up`,
    );
  });

  test("a mapping held by another disk that is still attached is left alone", async () => {
    fakes.setMapping(mapper(), plain.device);
    const error = await unlockDevice(config, luks.device, deps).catch((e) => e);
    expect(error.message).toStartWith(
      `/dev/mapper/${mapper()} is already open on ${plain.device}, which is still attached; not touching it.`,
    );
    expect(fakes.mapping(mapper())).toBe(plain.device);
    expect(
      fakes.calls().filter((c) => c[1] === "close" || c[1] === "open"),
    ).toEqual([]);
  });

  test("cryptsetup status failing (no device-mapper) stops before opening", async () => {
    fakes.failNext(
      "status",
      1,
      "Cannot initialize device-mapper. Is dm_mod kernel module loaded?",
    );
    const error = await unlockDevice(config, luks.device, deps).catch((e) => e);
    expect(error.message).toBe(
      `${fakes.cryptsetup} status ${mapper()} failed with exit 1 (wrong parameters): Cannot initialize device-mapper. Is dm_mod kernel module loaded?`,
    );
    expect(opens()).toEqual([]);
  });

  describe("remove", () => {
    test("closes the mapping of the removed disk", async () => {
      fakes.setMapping(mapper(), "(null)", "sdb1");
      expect(await removeMapping(config, mapper(), "/dev/sdb1", deps)).toBe(
        "closed",
      );
      expect(fakes.mapping(mapper())).toBeUndefined();
    });

    test("nothing open: success, nothing closed", async () => {
      expect(await removeMapping(config, mapper(), undefined, deps)).toBe(
        "not-open",
      );
      expect(fakes.calls().map((c) => c[1])).toEqual(["status"]);
    });

    test("a remove event for another disk leaves a mapping on an attached disk alone", async () => {
      fakes.setMapping(mapper(), luks.device);
      expect(await removeMapping(config, mapper(), "/dev/sdq1", deps)).toBe(
        "left-alone",
      );
      expect(fakes.mapping(mapper())).toBe(luks.device);
    });

    test("still mounted from udev's sandbox: deferred removal, reported", async () => {
      fakes.setMapping(mapper(), "(null)", "sdb1");
      fakes.setBusy(mapper(), "/mnt/usb1/magazine");
      writeFileSync(
        mountinfo,
        `40 22 253:0 / /mnt/usb1/magazine rw - ext4 /dev/mapper/${mapper()} rw\n`,
      );
      const udev = {
        ...deps,
        env: { ACTION: "remove", SEQNUM: "4712", DEVPATH: "/devices/x" },
      };
      expect(await removeMapping(config, mapper(), "/dev/sdb1", udev)).toBe(
        "deferred",
      );
      expect(fakes.calls().map((c) => c.slice(0, 3).join(" "))).toEqual([
        "cryptsetup status --",
        "cryptsetup close --",
        "cryptsetup close --deferred",
      ]);
      expect(log.lines).toContain(
        `warn: /dev/mapper/${mapper()} is still in use; the kernel removes it when its last user (a mount) lets go`,
      );
    });
  });

  // What the refresh units run outside udev once a disk was pulled without eject.
  describe("release-stale", () => {
    test("a mapping whose disk is gone: its dead mount is lazily unmounted and it is closed", async () => {
      const at = join(root, `case${n}`, "mnt/usb1/magazine");
      mkdirSync(at, { recursive: true });
      fakes.setMapping(mapper(), "(null)");
      fakes.setBusy(mapper(), at);
      writeFileSync(
        mountinfo,
        `22 1 0:20 / / rw - ext4 /dev/vda rw\n40 22 253:0 / ${at} rw,nodev - ext4 /dev/mapper/${mapper()} rw\n`,
      );
      expect(await releaseStaleMapping(config, mapper(), deps)).toBe("closed");
      expect(fakes.calls().map((c) => c.slice(0, 3).join(" "))).toEqual([
        "cryptsetup status --",
        "umount -l --",
        "cryptsetup close --",
      ]);
      expect(fakes.mapping(mapper())).toBeUndefined();
      expect(log.lines).toContain(
        `warn: /dev/mapper/${mapper()} is a stale mapping of sdz1, which is gone; releasing it`,
      );
    });

    test("a mapping whose disk is attached is left alone", async () => {
      fakes.setMapping(mapper(), luks.device);
      expect(await releaseStaleMapping(config, mapper(), deps)).toBe(
        "attached",
      );
      expect(fakes.calls().map((c) => c[1])).toEqual(["status"]);
      expect(fakes.mapping(mapper())).toBe(luks.device);
    });

    test("still held by an open file after the unmount: marked for removal", async () => {
      fakes.setMapping(mapper(), "(null)");
      fakes.setBusy(mapper(), "/nowhere/held-by-a-job");
      expect(await releaseStaleMapping(config, mapper(), deps)).toBe(
        "deferred",
      );
      expect(fakes.deferred(mapper())).toBe(true);
    });

    test("another device-mapper device of that name is refused, nothing closed", async () => {
      fakes.setForeign(mapper());
      const error = await releaseStaleMapping(config, mapper(), deps).catch(
        (e) => e,
      );
      expect(error.message).toStartWith(
        `/dev/mapper/${mapper()} exists but is not a LUKS mapping made by cryptsetup`,
      );
      expect(fakes.calls().filter((c) => c[1] === "close")).toEqual([]);
    });

    test("nothing of that name in sysfs: no tool runs at all (the timer calls it every 15 min)", async () => {
      mkdirSync(join(fakes.dir, "sys/block"), { recursive: true });
      expect(await releaseStaleMapping(config, mapper(), deps)).toBe(
        "not-open",
      );
      expect(fakes.calls()).toEqual([]);
    });
  });

  // A disk plugged in while the stale mapping of a pulled one was still held (udev's unlock
  // failed): once release-stale finds the name free, it opens that disk.
  describe("a disk that waited for the name", () => {
    function usbSysfs(device: string): void {
      const name = device.slice("/dev/".length);
      const devices = join(
        fakes.dir,
        "sys/devices/pci0000:00/usb2/2-1/block",
        name,
      );
      mkdirSync(join(devices, "holders"), { recursive: true });
      mkdirSync(join(fakes.dir, "sys/class/block"), { recursive: true });
      symlinkSync(devices, join(fakes.dir, "sys/class/block", name));
    }
    const waitingDeps = () => ({
      ...deps,
      env: { MAGCHANGER_RUN_DIR: join(fakes.dir, "run") },
    });

    test("is opened once the name is free, and its mark cleared", async () => {
      usbSysfs(luks.device);
      usbSysfs(plain.device);
      markWaiting(config, luks.device, waitingDeps());
      await openIfWaiting(config, waitingDeps());
      expect(fakes.mapping(mapper())).toBe(luks.device);
      expect(existsSync(join(fakes.dir, "run", `${mapper()}.waiting`))).toBe(
        false,
      );
      expect(log.lines).toContain(
        `info: ${luks.device} was plugged in while the stale mapping held /dev/mapper/${mapper()}: opened it now`,
      );
    });

    test("without a mark nothing is tried (no PBKDF run, no log line on every timer run)", async () => {
      usbSysfs(luks.device);
      await openIfWaiting(config, waitingDeps());
      expect(fakes.calls()).toEqual([]);
      expect(fakes.mapping(mapper())).toBeUndefined();
    });
  });
});
