// Two magazines in two bays at once, through the compiled binary as udev, autofs and the operator
// run it: a changer with a second autofs bay (its own mapper) opens a second LUKS disk under that
// bay's name, refuses a third naming both, and remove, release-stale and eject touch only the
// mapping of the disk that went. Real LUKS2 images on loop devices; fake cryptsetup open/close/
// status and umount with a fake sysfs (this kernel has no device-mapper; see test/unlock/fakes.ts).
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
  chmodSync,
  chownSync,
  mkdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BASE_ENV, runBinary, tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  configText,
  createFakeTools,
  createLuksDisk,
  type FakeTools,
  type LoopDisk,
  writeConfig,
  writeKeyFile,
} from "../unlock/fakes.ts";

// Each run is a process start and cryptsetup runs: more than bun's default 5 s.
setDefaultTimeout(60_000);

const SUITE = "two bays at once (e2e)";

describe.skipIf(skipUnless(["luks"], SUITE))(SUITE, () => {
  let root: string;
  let keyFile: string;
  let disk1: LoopDisk;
  let disk2: LoopDisk;
  let disk3: LoopDisk;
  let dir: string;
  let confDir: string;
  let conf: string;
  let fakes: FakeTools;
  let n = 0;
  const nodes: string[] = [];
  const m1 = () => `mgd${process.pid}x${n}`;
  const m2 = () => `mgd${process.pid}x${n}b`;
  const bay1 = () => join(dir, "mnt", "magazine");
  const bay2 = () => join(dir, "mnt", "magazine2");
  const env = (extra: Record<string, string> = {}) => ({
    ...BASE_ENV,
    MAGCHANGER_CONFIG_DIR: confDir,
    MAGCHANGER_SYSTEMD_ROOT: join(dir, "no-systemd"),
    MAGCHANGER_SYSFS_ROOT: join(fakes.dir, "sys"),
    ...extra,
  });
  // udev's environment for an event of device (the rule passes luks.mapper as NAME).
  const udev = (action: string, device: string) =>
    env({
      ACTION: action,
      DEVNAME: device,
      DEVPATH: `/devices/virtual/block/${device.slice(5)}`,
      SUBSYSTEM: "block",
      SEQNUM: "4711",
      ID_FS_TYPE: "crypto_LUKS",
    });
  const plug = (device: string) =>
    runBinary(["unlock", device, m1()], { env: udev("add", device) });
  const closes = () =>
    fakes
      .calls()
      .filter((c) => c[1] === "close")
      .map((c) => c.at(-1));

  beforeAll(() => {
    root = makeTempDir("unlock-bays-e2e");
    keyFile = writeKeyFile(join(root, "luks.key"), "bays-e2e-secret-9d0e");
    disk1 = createLuksDisk(root, "disk1", keyFile);
    disk2 = createLuksDisk(root, "disk2", keyFile);
    disk3 = createLuksDisk(root, "disk3", keyFile);
  });

  afterAll(() => {
    for (const node of nodes) rmSync(node, { force: true });
    disk1?.detach();
    disk2?.detach();
    disk3?.detach();
    if (root) removeTempDir(root);
  });

  beforeEach(() => {
    n += 1;
    dir = join(root, `case${n}`);
    confDir = join(dir, "etc");
    mkdirSync(confDir, { recursive: true });
    fakes = createFakeTools(join(dir, "tools"));
    conf = join(confDir, "usb.toml");
    writeConfig(conf, {
      dir,
      name: "usb",
      mapper: m1(),
      keyFile,
      tools: fakes,
      bays: [{ key: "magazine2", mapper: m2() }],
    });
  });

  test("two disks plugged: the first opens as luks.mapper, the second under bay 2's mapper", async () => {
    const first = await plug(disk1.device);
    expect(first.exitCode).toBe(0);
    const second = await plug(disk2.device);
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toMatch(
      new RegExp(
        `^magchanger: opened ${disk2.device} \\(LUKS UUID [0-9a-f-]+\\) as /dev/mapper/${m2()} \\(bay 2, ${bay2()}\\)\n`,
      ),
    );
    expect(fakes.mapping(m1())).toBe(disk1.device);
    expect(fakes.mapping(m2())).toBe(disk2.device);
    // udev repeats events: the second disk's change event finds it open in bay 2.
    const again = await runBinary(["unlock", m1()], {
      env: udev("change", disk2.device),
    });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain(
      `magchanger: /dev/mapper/${m2()} is already open on ${disk2.device}`,
    );
    expect(fakes.calls().filter((c) => c[1] === "open")).toHaveLength(2);
  });

  test("a third disk while both bays hold one: exit 1, one line naming both, nothing touched", async () => {
    expect((await plug(disk1.device)).exitCode).toBe(0);
    expect((await plug(disk2.device)).exitCode).toBe(0);
    const third = await plug(disk3.device);
    expect(third.exitCode).toBe(1);
    expect(third.stderr).toBe(
      `magchanger: every bay of changer usb holds a disk: /dev/mapper/${m1()} is open on ${disk1.device} (bay 1, ${bay1()}), /dev/mapper/${m2()} on ${disk2.device} (bay 2, ${bay2()}); not opening ${disk3.device}: eject one (magchanger eject -c ${conf} BAY) and unplug it, then plug this disk in again\n`,
    );
    expect(closes()).toEqual([]);
    expect(fakes.mapping(m1())).toBe(disk1.device);
    expect(fakes.mapping(m2())).toBe(disk2.device);
  });

  test("udev's remove of bay 1's disk closes bay 1's mapping only", async () => {
    fakes.setMapping(m1(), "(null)", "sdx1");
    fakes.setMapping(m2(), disk2.device);
    const result = await runBinary(["unlock", "/dev/sdx1", m1()], {
      env: udev("remove", "/dev/sdx1"),
    });
    expect(result.exitCode).toBe(0);
    expect(closes()).toEqual([m1()]);
    expect(fakes.mapping(m1())).toBeUndefined();
    expect(fakes.mapping(m2())).toBe(disk2.device);
  });

  test("release-stale (the refresh units) closes bay 2's mapping of a pulled disk only", async () => {
    fakes.setMapping(m1(), disk1.device);
    fakes.setMapping(m2(), "(null)", "sdy1");
    const result = await runBinary(["unlock", "--release-stale", "-c", conf], {
      env: env(),
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      `magchanger: /dev/mapper/${m2()} is a stale mapping of sdy1, which is gone; releasing it\nmagchanger: closed /dev/mapper/${m2()}\n`,
    );
    expect(closes()).toEqual([m2()]);
    expect(fakes.mapping(m1())).toBe(disk1.device);
  });

  // automap checks /dev/mapper/NAME is a block device: a node made for each name stands in.
  test("automap answers each bay's key with that bay's mapping", async () => {
    for (const name of [m1(), m2()]) {
      const node = `/dev/mapper/${name}`;
      tool(["mknod", "--", node, "b", "7", "250"]);
      nodes.push(node);
    }
    const entry = async (key: string) =>
      runBinary(["automap", "-c", conf, key], { env: env() });
    const one = await entry("magazine");
    const two = await entry("magazine2");
    expect([one.exitCode, one.stdout]).toEqual([
      0,
      `-fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/mapper/${m1()}\n`,
    ]);
    expect([two.exitCode, two.stdout]).toEqual([
      0,
      `-fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/mapper/${m2()}\n`,
    ]);
    rmSync(`/dev/mapper/${m2()}`);
    const gone = await entry("magazine2");
    expect([gone.exitCode, gone.stdout, gone.stderr]).toEqual([
      1,
      "",
      `magchanger: automap: no disk for "magazine2": /dev/mapper/${m2()} is not open; attach the disk (udev unlocks it), then retry\n`,
    ]);
  });

  test("eject of bay 2 (open, not mounted) closes bay 2's mapping only", async () => {
    fakes.setMapping(m1(), disk1.device);
    fakes.setMapping(m2(), disk2.device);
    const result = await runBinary(["eject", "-c", conf, "2"], { env: env() });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      `closed /dev/mapper/${m2()}, which was open but not mounted\nnothing is mounted in bay 2 (${bay2()}): safe to unplug\n`,
    );
    expect(closes()).toEqual([m2()]);
    expect(fakes.mapping(m1())).toBe(disk1.device);
  });

  test("a second bay below the autofs dir without mapper: exit 3 naming the key and the fix, nothing run", async () => {
    const text = configText({
      dir,
      name: "usb",
      mapper: m1(),
      keyFile,
      tools: fakes,
    }).replace("[luks]", `[[magazine]]\npath = "${bay2()}"\n[luks]`);
    writeFileSync(conf, text, { mode: 0o644 });
    chmodSync(conf, 0o644);
    chownSync(conf, 0, 0);
    const result = await runBinary(["unlock", "-c", conf, disk1.device], {
      env: env(),
    });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(
      `magchanger: config ${conf}: magazine[2]: ${bay2()} is a second bay below the autofs dir ${join(dir, "mnt")} (where automap.key's bay ${bay1()} is), so its disk needs a mapping name of its own: add mapper = "${m1()}2" (a device-mapper name no other bay of this changer uses), or move the bay out of ${join(dir, "mnt")}\n`,
    );
    expect(fakes.calls()).toEqual([]);
  });
});
