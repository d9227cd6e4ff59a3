// The compiled binary as udev runs it: `magchanger unlock /dev/%k NAME` with udev's environment,
// the config found in MAGCHANGER_CONFIG_DIR by its luks.mapper. Real LUKS2 images on loop devices
// for isLuks/luksUUID and the key check; fake cryptsetup open/close/status and umount (recording
// their argv), because this kernel has no device-mapper. See test/unlock/fakes.ts.
import { skipUnless } from "../helpers/capabilities.ts";
import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  setDefaultTimeout,
  test,
} from "bun:test";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { createLoopFs, type LoopFs } from "../helpers/loop.ts";
import { BASE_ENV, runBinary, tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  createFakeTools,
  createLuksDisk,
  type FakeTools,
  type LoopDisk,
  writeConfig,
  writeKeyFile,
} from "../unlock/fakes.ts";

const SECRET = "e2e-unlock-secret-4b1d";
// Each run of the binary is a process start (and cryptsetup runs): more than bun's default 5 s.
setDefaultTimeout(60_000);

function isMounted(dir: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === dir);
}

const SUITE = "magchanger unlock (e2e)";

describe.skipIf(skipUnless(["luks"], SUITE))(SUITE, () => {
  let root: string;
  let keyFile: string;
  let disk: LoopDisk;
  let confDir: string;
  let sysRoot: string;
  let fakes: FakeTools;
  let logFile: string;
  let n = 0;
  const mounts: string[] = [];
  const staleFs: LoopFs[] = [];
  const staleNodes: string[] = [];
  const mapper = () => `mge${process.pid}x${n}`;
  // Each case's host root: systemd "runs" there only after bootSystemd(), whatever this host runs.
  const env = (extra: Record<string, string> = {}) => ({
    ...BASE_ENV,
    MAGCHANGER_CONFIG_DIR: confDir,
    MAGCHANGER_SYSTEMD_ROOT: sysRoot,
    // The fake cryptsetup shows its mappings there as the kernel's sysfs would (fakes.ts).
    MAGCHANGER_SYSFS_ROOT: join(fakes.dir, "sys"),
    MAGCHANGER_RUN_DIR: join(fakes.dir, "run"),
    ...extra,
  });
  const bootSystemd = () => {
    mkdirSync(join(sysRoot, "run/systemd/system"), { recursive: true });
    mkdirSync(join(sysRoot, "etc/systemd/system"), { recursive: true });
    writeFileSync(
      join(sysRoot, "etc/systemd/system/magchanger-refresh@.service"),
      "",
    );
  };
  const systemctlCalls = () =>
    fakes.calls().filter((c) => c[0] === "systemctl");
  const QUEUE = [
    "systemctl",
    "restart",
    "--no-block",
    "magchanger-refresh@usb.service",
  ];
  const udev = (action: string, extra: Record<string, string> = {}) =>
    env({
      ACTION: action,
      DEVNAME: disk.device,
      DEVPATH: `/devices/virtual/block/${disk.device.slice(5)}`,
      SUBSYSTEM: "block",
      SEQNUM: "4711",
      ID_FS_TYPE: "crypto_LUKS",
      ...extra,
    });

  beforeAll(() => {
    root = makeTempDir("unlock-e2e");
    keyFile = writeKeyFile(join(root, "luks.key"), SECRET);
    disk = createLuksDisk(root, "disk", keyFile);
  });

  afterAll(() => {
    for (const dir of mounts)
      if (isMounted(dir))
        tool(["umount", "-l", "--", dir], { okCodes: [0, 32] });
    for (const fs of staleFs) fs.destroy();
    for (const node of staleNodes) rmSync(node, { force: true });
    disk?.detach();
    if (root) removeTempDir(root);
  });

  beforeEach(() => {
    n += 1;
    const dir = join(root, `case${n}`);
    sysRoot = join(dir, "root");
    confDir = join(sysRoot, "etc/magchanger");
    mkdirSync(confDir, { recursive: true });
    fakes = createFakeTools(join(dir, "tools"));
    logFile = join(dir, "log", "usb.log");
    writeConfig(join(confDir, "usb.toml"), {
      dir,
      name: "usb",
      mapper: mapper(),
      keyFile,
      tools: fakes,
      logFile,
    });
  });

  const secretNowhere = (stderr: string) => {
    expect(stderr).not.toContain(SECRET);
    expect(JSON.stringify(fakes.calls())).not.toContain(SECRET);
    if (existsSync(logFile))
      expect(readFileSync(logFile, "utf8")).not.toContain(SECRET);
  };

  test("udev add event opens the disk; a repeated event succeeds and opens nothing", async () => {
    const first = await runBinary(["unlock", disk.device, mapper()], {
      env: udev("add"),
    });
    expect({ exitCode: first.exitCode, stdout: first.stdout }).toEqual({
      exitCode: 0,
      stdout: "",
    });
    expect(first.stderr).toContain(
      `magchanger: opened ${disk.device} (LUKS UUID `,
    );
    expect(fakes.mapping(mapper())).toBe(disk.device);
    // The same event again, as udev's change event: only DEVNAME, the name from the rule.
    const again = await runBinary(["unlock", mapper()], {
      env: udev("change"),
    });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain("is already open on");
    expect(fakes.calls().filter((c) => c[1] === "open")).toHaveLength(1);
    expect(readFileSync(logFile, "utf8")).toContain(`unlock[`);
    secretNowhere(first.stderr + again.stderr);
  });

  test("udev remove event (ACTION=remove) closes the mapping of the pulled disk", async () => {
    fakes.setMapping(mapper(), "(null)", "sdzz1");
    const result = await runBinary(["unlock", "/dev/sdzz1", mapper()], {
      env: udev("remove", { DEVNAME: "/dev/sdzz1" }),
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(
      `magchanger: closed /dev/mapper/${mapper()}`,
    );
    expect(fakes.mapping(mapper())).toBeUndefined();
    const none = await runBinary(["unlock", "--remove", mapper()], {
      env: env(),
    });
    expect(none.exitCode).toBe(0);
    expect(none.stderr).toBe(
      `magchanger: /dev/mapper/${mapper()} is not open; nothing to close\n`,
    );
  });

  /** A mapping whose disk is gone but whose filesystem is still mounted: an ext4 on a loop
   * device stands in for it, with a block node of that device made at /dev/mapper/NAME (unlock
   * matches mounts by the node's major:minor, never by the source string). */
  function staleMount(): string {
    const mnt = join(root, `stale${n}`);
    const fs = createLoopFs(root, `stale${n}`);
    staleFs.push(fs);
    fs.mount(mnt);
    const rdev = statSync(fs.device).rdev;
    const node = `/dev/mapper/${mapper()}`;
    tool([
      "mknod",
      "--",
      node,
      "b",
      String(Math.floor(rdev / 256) & 0xfff),
      String(rdev & 0xff),
    ]);
    staleNodes.push(node);
    mounts.push(mnt);
    fakes.setMapping(mapper(), "(null)");
    fakes.setBusy(mapper(), mnt);
    fakes.realUmount();
    return mnt;
  }

  test("stale mapping with a real mount: run outside udev, it is lazily unmounted, closed and reopened", async () => {
    const mnt = staleMount();
    const result = await runBinary(["unlock", disk.device, mapper()], {
      env: env(),
    });
    expect(result.exitCode).toBe(0);
    expect(isMounted(mnt)).toBe(false);
    expect(fakes.calls().find((c) => c[0] === "umount")).toEqual([
      "umount",
      "-l",
      "--",
      mnt,
    ]);
    expect(fakes.mapping(mapper())).toBe(disk.device);
    expect(result.stderr.split("\n").filter(Boolean)).toEqual([
      `magchanger: /dev/mapper/${mapper()} is a stale mapping of sdz1, which is gone; cleaning it up`,
      `magchanger: lazily unmounted ${mnt} (was /dev/mapper/${mapper()})`,
      `magchanger: closed /dev/mapper/${mapper()}`,
      expect.stringMatching(
        new RegExp(
          `^magchanger: opened ${disk.device} \\(LUKS UUID [0-9a-f-]+\\) as /dev/mapper/${mapper()}$`,
        ),
      ),
    ]);
  });

  test("stale mapping with a real mount from udev: the mount is reported, not touched; exit 1", async () => {
    const mnt = staleMount();
    const result = await runBinary(["unlock", disk.device, mapper()], {
      env: udev("add"),
    });
    expect(result.exitCode).toBe(1);
    expect(isMounted(mnt)).toBe(true);
    expect(fakes.calls().filter((c) => c[0] === "umount")).toEqual([]);
    expect(result.stderr).toContain(
      `magchanger: not unmounting ${mnt}: unmounting from udev's sandbox`,
    );
    expect(result.stderr.trimEnd().split("\n").at(-1)).toStartWith(
      `magchanger: cannot open ${disk.device} as /dev/mapper/${mapper()}: the stale mapping is still in use`,
    );
    expect(readFileSync(logFile, "utf8")).toContain("error: cannot open");
    tool(["umount", "--", mnt]);
  });

  describe("queueing the refresh unit", () => {
    test("after opening, a repeated event and --remove: each queues the unit exactly once, after the open", async () => {
      bootSystemd();
      const opened = await runBinary(["unlock", disk.device, mapper()], {
        env: udev("add"),
      });
      expect(opened.exitCode).toBe(0);
      expect(systemctlCalls()).toEqual([QUEUE]);
      const calls = fakes.calls().map((c) => c.slice(0, 2).join(" "));
      expect(calls.indexOf("systemctl restart")).toBeGreaterThan(
        calls.indexOf("cryptsetup open"),
      );
      expect(opened.stderr.trimEnd().split("\n").at(-1)).toBe(
        "magchanger: queued magchanger-refresh@usb.service: Bacula is told in the background",
      );
      const again = await runBinary(["unlock", mapper()], {
        env: udev("change"),
      });
      expect(again.exitCode).toBe(0);
      expect(systemctlCalls()).toEqual([QUEUE, QUEUE]);
      const removed = await runBinary(["unlock", "--remove", mapper()], {
        env: env(),
      });
      expect(removed.exitCode).toBe(0);
      expect(fakes.mapping(mapper())).toBeUndefined();
      expect(systemctlCalls()).toEqual([QUEUE, QUEUE, QUEUE]);
    });

    // A disk udev matched but unlock could not open is told (disk-refused): the refresh queued
    // delivers it. Arguments refused before any config is read queue nothing.
    test("a bad argument queues nothing; a disk unlock cannot open queues the refresh that tells it, with one line for udev", async () => {
      bootSystemd();
      const refused = await runBinary(["unlock", "/dev/null"], { env: env() });
      expect(refused.exitCode).toBe(2);
      expect(systemctlCalls()).toEqual([]);
      fakes.failNext("open", 5, "Device is busy.");
      const busy = await runBinary(["unlock", disk.device, mapper()], {
        env: udev("add"),
      });
      expect(busy.exitCode).toBe(8);
      expect(busy.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(systemctlCalls()).toEqual([QUEUE]);
    });

    test("without systemd as PID 1 nothing is queued, and udev sees no extra line", async () => {
      const result = await runBinary(["unlock", disk.device, mapper()], {
        env: udev("add"),
      });
      expect(result.exitCode).toBe(0);
      expect(systemctlCalls()).toEqual([]);
      expect(result.stderr).not.toContain("refresh");
      expect(readFileSync(logFile, "utf8")).toContain(
        "debug: systemd is not running (no /run/systemd/system): no refresh queued",
      );
    });

    test("a failing systemctl is a warning: the disk is open and unlock succeeds", async () => {
      bootSystemd();
      fakes.breakSystemctl(1);
      const result = await runBinary(["unlock", disk.device, mapper()], {
        env: udev("add"),
      });
      expect(result.exitCode).toBe(0);
      expect(fakes.mapping(mapper())).toBe(disk.device);
      expect(systemctlCalls()).toEqual([QUEUE]);
      expect(result.stderr).toContain(
        `magchanger: ${fakes.systemctl} restart --no-block magchanger-refresh@usb.service failed with exit 1: Failed to start magchanger-refresh@usb.service: Unit magchanger-refresh@usb.service not found.: no refresh queued; run magchanger refresh -c`,
      );
    });

    test("a hanging systemctl is killed after 5 s and unlock still succeeds", async () => {
      bootSystemd();
      fakes.breakSystemctl("hang");
      const result = await runBinary(["unlock", "--remove", mapper()], {
        env: env(),
      });
      expect(result.exitCode).toBe(0);
      expect(result.ms).toBeLessThan(10_000);
      expect(systemctlCalls()).toEqual([QUEUE]);
      expect(result.stderr).toContain(
        "magchanger-refresh@usb.service timed out after 5 s and was killed: no refresh queued;",
      );
    });
  });

  describe("refused before anything runs", () => {
    const refusals: [string, string[], number, RegExp][] = [
      [
        "shell metacharacters",
        ["unlock", "/dev/sdb1;reboot", "bacula"],
        2,
        /^magchanger: refusing device "\/dev\/sdb1;reboot": expected a block device path under \/dev/,
      ],
      [
        "a path outside /dev",
        ["unlock", "/etc/passwd"],
        2,
        /^magchanger: refusing device "\/etc\/passwd"/,
      ],
      [
        "a character device",
        ["unlock", "/dev/null"],
        2,
        /^magchanger: refusing device \/dev\/null: it is a character device, not a block device/,
      ],
      [
        "a missing device",
        ["unlock", "/dev/sdzz7"],
        1,
        /^magchanger: device \/dev\/sdzz7: ENOENT/,
      ],
      [
        "an option-like argument",
        ["unlock", "/dev/null", "-rf"],
        2,
        /^magchanger: unlock: unknown option "-rf"; run `magchanger unlock --help`\n$/,
      ],
      [
        "a bad mapper name",
        ["unlock", "/dev/null", "a/b"],
        2,
        /^magchanger: refusing/,
      ],
      [
        "too many arguments",
        ["unlock", "a", "b", "c"],
        2,
        /^magchanger: unlock: unexpected argument "c"; run `magchanger unlock --help`\n$/,
      ],
      [
        "no device and no DEVNAME",
        ["unlock"],
        2,
        /^magchanger: unlock: no DEVICE given and DEVNAME is not set/,
      ],
    ];
    for (const [what, args, code, line] of refusals) {
      test(`${what}: exit ${code}, one line, no tool run, no log`, async () => {
        const result = await runBinary(args, { env: env() });
        expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({
          exitCode: code,
          stdout: "",
        });
        expect(result.stderr.split("\n")).toHaveLength(2);
        expect(result.stderr).toMatch(line);
        expect(fakes.calls()).toEqual([]);
        expect(existsSync(logFile)).toBe(false);
      });
    }

    const shm = `/dev/shm/magchanger-e2e-${process.pid}`;
    test("a regular file and a symlink escaping /dev, both under /dev/shm", async () => {
      mkdirSync(shm, { recursive: true });
      try {
        writeFileSync(join(shm, "file"), "");
        symlinkSync(disk.image, join(shm, "escape"));
        const file = await runBinary(["unlock", join(shm, "file")], {
          env: env(),
        });
        expect(file.exitCode).toBe(2);
        expect(file.stderr).toBe(
          `magchanger: refusing device ${shm}/file: it is a regular file, not a block device; pass a disk partition such as /dev/sdb1\n`,
        );
        const escape = await runBinary(["unlock", join(shm, "escape")], {
          env: env(),
        });
        expect(escape.exitCode).toBe(2);
        expect(escape.stderr).toBe(
          `magchanger: refusing device ${shm}/escape: it resolves to ${disk.image}, outside /dev; pass the device node itself\n`,
        );
        expect(fakes.calls()).toEqual([]);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    });

    test("a key file group/other can read: exit 1 with the chmod, no tool run", async () => {
      const loose = writeKeyFile(join(root, `loose${n}.key`), SECRET, 0o640);
      writeConfig(join(confDir, "usb.toml"), {
        dir: join(root, `case${n}`),
        name: "usb",
        mapper: mapper(),
        keyFile: loose,
        tools: fakes,
        logFile,
      });
      const result = await runBinary(["unlock", disk.device, mapper()], {
        env: udev("add"),
      });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(
        `magchanger: refusing key file ${loose}: mode 0640 lets group/other at the key; run: chmod 0400 ${loose}\n`,
      );
      expect(fakes.calls()).toEqual([]);
      secretNowhere(result.stderr);
    });
  });

  test("a wrong key: exit 8, the message names key file and disk, the key is nowhere", async () => {
    const wrong = writeKeyFile(join(root, `wrong${n}.key`), `${SECRET}-wrong`);
    writeConfig(join(confDir, "usb.toml"), {
      dir: join(root, `case${n}`),
      name: "usb",
      mapper: mapper(),
      keyFile: wrong,
      tools: fakes,
      logFile,
    });
    const result = await runBinary(["unlock", disk.device, mapper()], {
      env: udev("add"),
    });
    expect(result.exitCode).toBe(8);
    expect(result.stderr).toStartWith(
      `magchanger: wrong key: ${wrong} does not unlock ${disk.device}`,
    );
    expect(result.stderr).not.toContain(`${SECRET}-wrong`);
    expect(readFileSync(logFile, "utf8")).not.toContain(`${SECRET}-wrong`);
  });

  test("a busy device: exit 8 with cryptsetup's reason", async () => {
    fakes.failNext(
      "open",
      5,
      `Cannot use device ${disk.device} which is in use (already mapped or mounted).`,
    );
    const result = await runBinary(["unlock", disk.device, mapper()], {
      env: udev("add"),
    });
    expect(result.exitCode).toBe(8);
    expect(result.stderr).toContain(
      `is busy (held by another mapping or mount) (cryptsetup: Cannot use device ${disk.device} which is in use`,
    );
  });

  test("no config has this mapper: exit 3 naming the dir", async () => {
    const result = await runBinary(["unlock", disk.device, "othername"], {
      env: udev("add"),
    });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(
      `magchanger: no changer config in ${confDir} has luks.mapper = "othername"; set it in the changer's .toml or pass -c CONF\n`,
    );
  });

  test("-c with a NAME other than luks.mapper is a config error (automap would look elsewhere)", async () => {
    const result = await runBinary(
      ["unlock", "-c", join(confDir, "usb.toml"), disk.device, "bacula"],
      { env: env() },
    );
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toStartWith(
      `magchanger: unlock: NAME "bacula" differs from luks.mapper = "${mapper()}"`,
    );
  });
});

test("unlock --help documents the udev rule, config discovery and exit status", async () => {
  const result = await runBinary(["unlock", "--help"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain(
    'RUN+="/usr/local/bin/magchanger unlock /dev/%k bacula"',
  );
  expect(result.stdout).toContain("MAGCHANGER_CONFIG_DIR");
  expect(result.stdout).toContain(
    "Exit status:\n  0  opened, already open, closed or nothing to do\n",
  );
});
