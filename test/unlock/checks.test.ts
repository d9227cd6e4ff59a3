// What unlock refuses before any tool runs: device arguments, mapper names, key files; and the
// pieces it reads: cryptsetup status output and the mount table.
import { missing, skipUnless } from "../helpers/capabilities.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { AppError, UsageError } from "../../src/errors.ts";
import { parseStatus } from "../../src/system/cryptsetup.ts";
import {
  checkDeviceSyntax,
  checkMapperName,
  resolveBlockDevice,
} from "../../src/unlock/device.ts";
import { checkKeyFile } from "../../src/unlock/keyfile.ts";
import { mountsOfMapping, mountsUnreachable } from "../../src/unlock/mounts.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { createPlainDisk, type LoopDisk, writeKeyFile } from "./fakes.ts";

describe("device arguments", () => {
  const refused = [
    "/dev/sdb1;reboot",
    "/dev/sdb1 bacula",
    "/dev/$(id)",
    "/dev/`id`",
    "/dev/sd|b",
    "/dev/sdb1&",
    "/dev/sdb1\n",
    "/dev/../etc/passwd",
    "/dev/./sdb1",
    "/dev//sdb1",
    "/dev/",
    "/dev",
    "/etc/passwd",
    "sdb1",
    "../dev/sdb1",
    "-rf",
    "/dev/disk/by-label/my\\x20disk",
  ];
  for (const device of refused) {
    test(`refuses ${JSON.stringify(device)} by its spelling (usage error, exit 2)`, () => {
      expect(() => checkDeviceSyntax(device)).toThrow(UsageError);
      expect(() => resolveBlockDevice(device)).toThrow(UsageError);
    });
  }

  test("accepts udev's names, by-id and by-path links included", () => {
    for (const device of [
      "/dev/sdb1",
      "/dev/nvme0n1p2",
      "/dev/disk/by-id/usb-WD_My_Passport_0820_5758-0:0-part1",
      "/dev/disk/by-path/pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0-part1",
    ]) {
      expect(() => checkDeviceSyntax(device)).not.toThrow();
    }
  });

  test("refuses a character device, a missing node and a directory under /dev", () => {
    expect(() => resolveBlockDevice("/dev/null")).toThrow(
      "refusing device /dev/null: it is a character device, not a block device",
    );
    expect(() => resolveBlockDevice("/dev/sdzz99")).toThrow(AppError);
    expect(() => resolveBlockDevice("/dev/sdzz99")).toThrow(
      /^device \/dev\/sdzz99: ENOENT/,
    );
    expect(() => resolveBlockDevice("/dev/shm")).toThrow(
      "it is a directory, not a block device",
    );
  });

  const DEV_SUITE = "files and links under /dev";
  describe.skipIf(skipUnless(["root"], DEV_SUITE))(DEV_SUITE, () => {
    const dir = `/dev/shm/magchanger-test-${process.pid}`;
    let outside: string;
    let loop: LoopDisk | undefined;
    beforeAll(() => {
      mkdirSync(dir, { recursive: true });
      outside = makeTempDir("outside");
      if (!missing("luks")) loop = createPlainDisk(outside, "plain");
    });
    afterAll(() => {
      loop?.detach();
      rmSync(dir, { recursive: true, force: true });
      removeTempDir(outside);
    });

    test("a regular file under /dev is refused", () => {
      writeFileSync(join(dir, "disk"), "");
      expect(() => resolveBlockDevice(join(dir, "disk"))).toThrow(
        `refusing device ${dir}/disk: it is a regular file, not a block device`,
      );
    });

    test("a symlink (or a linked directory) escaping /dev is refused", () => {
      symlinkSync(join(outside, "x"), join(dir, "escape"));
      writeFileSync(join(outside, "x"), "");
      expect(() => resolveBlockDevice(join(dir, "escape"))).toThrow(
        `refusing device ${dir}/escape: it resolves to ${outside}/x, outside /dev`,
      );
      symlinkSync(outside, join(dir, "linkdir"));
      expect(() => resolveBlockDevice(join(dir, "linkdir", "x"))).toThrow(
        "outside /dev",
      );
    });

    test.skipIf(
      skipUnless(
        ["luks"],
        "a link to a block device inside /dev resolves to the node",
      ),
    )("a link to a block device inside /dev resolves to the node", () => {
      if (!loop) throw new Error("no loop device");
      symlinkSync(loop.device, join(dir, "by-test"));
      expect(resolveBlockDevice(join(dir, "by-test"))).toBe(loop.device);
      expect(resolveBlockDevice(loop.device)).toBe(loop.device);
    });
  });
});

describe("mapper names", () => {
  test("refuses option-like, path-like and shell-like names", () => {
    for (const name of [
      "-x",
      "--help",
      "a/b",
      "../x",
      "a b",
      "a;b",
      "$x",
      "",
      "x".repeat(65),
    ]) {
      expect(() => checkMapperName(name)).toThrow(UsageError);
    }
  });
  test("accepts device-mapper names", () => {
    for (const name of ["bacula", "usb_1", "luks-0b7f.2", "a+b"])
      expect(() => checkMapperName(name)).not.toThrow();
  });
});

describe.skipIf(skipUnless(["root"], "key file"))("key file", () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir("key");
  });
  afterAll(() => removeTempDir(dir));

  test("root-owned 0400 and 0600 are accepted", () => {
    expect(() =>
      checkKeyFile(writeKeyFile(join(dir, "a"), "k", 0o400), "c.toml"),
    ).not.toThrow();
    expect(() =>
      checkKeyFile(writeKeyFile(join(dir, "b"), "k", 0o600), "c.toml"),
    ).not.toThrow();
  });

  test("group- or other-readable keys are refused with the chmod that fixes them", () => {
    for (const mode of [0o640, 0o604, 0o644, 0o620]) {
      const file = writeKeyFile(join(dir, `m${mode.toString(8)}`), "k", mode);
      expect(() => checkKeyFile(file, "c.toml")).toThrow(
        `refusing key file ${file}: mode 0${mode.toString(8)} lets group/other at the key; run: chmod 0400 ${file}`,
      );
    }
  });

  test("a key not owned by root is refused", () => {
    const file = writeKeyFile(join(dir, "nobody"), "k", 0o400);
    chownSync(file, 65534, 0);
    expect(() => checkKeyFile(file, "c.toml")).toThrow(
      `refusing key file ${file}: it is owned by uid 65534, not root; run: chown root:root ${file}`,
    );
  });

  test("missing, empty and non-file keys are refused, naming the config key", () => {
    expect(() =>
      checkKeyFile(join(dir, "missing"), "/etc/magchanger/c.toml"),
    ).toThrow(
      `key file ${dir}/missing (luks.key_file in /etc/magchanger/c.toml): ENOENT (no such file or directory)`,
    );
    expect(() =>
      checkKeyFile(writeKeyFile(join(dir, "empty"), "", 0o400), "c.toml"),
    ).toThrow("it is empty");
    expect(() => checkKeyFile(dir, "c.toml")).toThrow("is not a regular file");
  });
});

describe("cryptsetup status output", () => {
  test("an active mapping with its device", () => {
    const text =
      "/dev/mapper/bacula is active and is in use.\n  type:    LUKS2\n  cipher:  aes-xts-plain64\n  device:  /dev/sdb1\n  mode:    read/write\n";
    expect(parseStatus(text)).toEqual({
      active: true,
      inUse: true,
      device: "/dev/sdb1",
      type: "LUKS2",
    });
  });
  test("a mapping whose disk disappeared prints (null)", () => {
    expect(
      parseStatus(
        "/dev/mapper/bacula is active.\n  type:    LUKS2\n  device:  (null)\n",
      ),
    ).toEqual({ active: true, inUse: false, device: undefined, type: "LUKS2" });
  });
  test("a device-mapper device that is not dm-crypt has type n/a and no device", () => {
    expect(
      parseStatus(
        "/dev/mapper/vg-root is active and is in use.\n  type:    n/a\n",
      ),
    ).toEqual({
      active: true,
      inUse: true,
      device: undefined,
      type: "n/a",
    });
  });
});

describe("mounts of a mapping", () => {
  const info = [
    "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
    "40 22 253:0 / /mnt/usb1/magazine rw,nodev - ext4 /dev/mapper/bacula rw",
    "41 40 253:0 / /mnt/usb1/magazine/sub\\040dir rw - ext4 /dev/mapper/bacula rw",
    "42 22 253:1 / /mnt/other rw - ext4 /dev/mapper/bacula2 rw",
    "",
  ].join("\n");

  test("finds the mounts of the device's major:minor, deepest first, with escapes decoded; never by source alone", () => {
    const sys = makeTempDir("sys");
    try {
      mkdirSync(join(sys, "block", "dm-0", "dm"), { recursive: true });
      writeFileSync(join(sys, "block", "dm-0", "dm", "name"), "bacula\n");
      writeFileSync(join(sys, "block", "dm-0", "dev"), "253:0\n");
      expect(
        mountsOfMapping(info, "bacula", sys).map((m) => m.mountPoint),
      ).toEqual(["/mnt/usb1/magazine/sub dir", "/mnt/usb1/magazine"]);
      // bacula2 has no device here: its source string alone matches nothing.
      expect(mountsOfMapping(info, "bacula2", sys)).toEqual([]);
      expect(mountsOfMapping(info, "nothing", "/nonexistent")).toEqual([]);
    } finally {
      removeTempDir(sys);
    }
  });

  test("finds a mount by major:minor through sysfs when it was mounted as /dev/dm-1", () => {
    const sys = makeTempDir("sys");
    try {
      mkdirSync(join(sys, "block", "dm-1", "dm"), { recursive: true });
      writeFileSync(join(sys, "block", "dm-1", "dm", "name"), "vault\n");
      writeFileSync(join(sys, "block", "dm-1", "dev"), "253:1\n");
      const text = "42 22 253:1 / /mnt/vault rw - ext4 /dev/dm-1 rw\n";
      expect(
        mountsOfMapping(text, "vault", sys).map((m) => m.mountPoint),
      ).toEqual(["/mnt/vault"]);
    } finally {
      removeTempDir(sys);
    }
  });

  test("udev's RUN+= environment means the host's mounts are out of reach", () => {
    expect(
      mountsUnreachable({ ACTION: "add", SEQNUM: "12", DEVPATH: "/devices/x" }),
    ).toStartWith("udev's sandbox");
    expect(mountsUnreachable({ ACTION: "add" }) ?? "").not.toStartWith(
      "udev's sandbox",
    );
  });
});
