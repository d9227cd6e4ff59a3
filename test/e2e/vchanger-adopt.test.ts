// Switching from vchanger by changing only the Changer Command: the compiled binary over
// magazines and work dirs as vchanger 0.8 (on real ext4 disks: 0.8 keeps the mount check) and
// 1.0 (directories) left them, a volume still loaded by vchanger included. Every file keeps its
// name and bytes, 0.8's slot numbers stay, a second scan writes nothing, one refresh tells Bacula.
import { skipUnless } from "../helpers/capabilities.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { barcode, listOutput } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import {
  type FakeDirector,
  fakeDirector,
  updateSession,
} from "../helpers/fake-director.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import { runBinary } from "../helpers/run.ts";
import { snapshotDir } from "../helpers/state.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  changedFiles,
  make08Magazine,
  make08WorkDir,
  make10Magazine,
  volumeData,
  writeConf08,
  writeConf10,
} from "../helpers/vchanger.ts";

const dirs: string[] = [];
afterAll(() => {
  destroyAllLoopFs();
  for (const dir of dirs) removeTempDir(dir);
});

const names = (changer: string, magazine: number, count: number) =>
  Array.from({ length: count }, (_, i) => barcode(changer, magazine, i + 1));
const slots = (list: string[], first = 1) =>
  Object.fromEntries(list.map((b, i) => [first + i, b]));

const SUITE =
  "vchanger 0.8 magazines on real disks (the seed how-to's changer)";

describe.skipIf(skipUnless(["loop"], SUITE))(SUITE, () => {
  let dir = "";
  let bay = "";
  let work = "";
  let conf = "";
  let log = "";
  let disk4: LoopFs;
  let disk5: LoopFs;
  let bconsole: FakeDirector;
  const vols4 = names("usbchanger1", 4, 10);
  const vols5 = names("usbchanger1", 5, 10);
  /** Bacula's Archive Device of drive 0 under vchanger 0.8. */
  let device = "";
  const sd = (command: string, slot: number) =>
    runBinary([conf, command, String(slot), device, "0"]);

  beforeAll(() => {
    dir = makeTempDir("vchanger08");
    dirs.push(dir);
    bay = join(dir, "mnt", "magazine");
    work = join(dir, "usbchanger1");
    log = join(dir, "usbchanger1.log");
    mkdirSync(bay, { recursive: true });
    mkdirSync(work);
    device = join(work, "0", "drive0");
    bconsole = fakeDirector(dir, [bay]);
    conf = writeConf08(join(dir, "vchanger.conf"), {
      name: "usbchanger1",
      workDir: work,
      logFile: log,
      magazines: [bay],
      bconsole: bconsole.path,
    });
    disk5 = createLoopFs(dir, "disk5");
    disk5.mount(bay);
    make08Magazine(bay, { changer: "usbchanger1", number: 5, volumes: 10 });
    disk5.unmount();
    // The seed's state: usbchanger1_0004_0008 loaded in drive 0 when vchanger was replaced.
    disk4 = createLoopFs(dir, "disk4");
    disk4.mount(bay);
    make08Magazine(bay, {
      changer: "usbchanger1",
      number: 4,
      volumes: 10,
      loaded: { drive: 0, volume: 8 },
    });
    make08WorkDir(work, bay, { drive: 0, volume: vols4[7] as string });
  });

  test("list keeps 0.8's slots and names; no file on the disk is renamed or rewritten", async () => {
    const before = snapshotDir(bay);
    expectSuccess(await sd("list", 0), listOutput(10, slots(vols4)));
    const after = snapshotDir(bay);
    expect(changedFiles(before, after)).toEqual([]);
    const added = Object.keys(after)
      .filter((p) => !(p in before))
      .map((p) =>
        p.replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/, "UUID"),
      )
      .sort();
    expect(added).toEqual([
      ".magchanger-UUID",
      ".magchanger-UUID/magazine.json",
      "usbchanger1_0004_0008",
    ]);
    expect(readFileSync(join(bay, "drive0"), "utf8")).toBe(
      volumeData(vols4[7] as string),
    );
    expectSuccess(await sd("slots", 0), "10\n");
    expectSuccess(await runBinary([conf, "LISTMAGS"]), `0:10:1:${bay}\n`);
  });

  test("the drive vchanger left loaded reads empty; a load reaches the volume through 0.8's Archive Device", async () => {
    expectSuccess(await sd("loaded", 0), "0\n");
    expectSuccess(await sd("load", 8));
    expect(lstatSync(join(work, "0")).isDirectory()).toBe(true);
    expect(readFileSync(device, "utf8")).toBe(volumeData(vols4[7] as string));
    expectSuccess(await sd("loaded", 0), "8\n");
    expectSuccess(
      await sd("listall", 0),
      `D:0:F:8:${vols4[7]}\n${vols4.map((b, i) => (i === 7 ? "S:8:E" : `S:${i + 1}:F:${b}`)).join("\n")}\n`,
    );
  });

  test("a second scan changes nothing on the disk or in the work dir", async () => {
    const disk = snapshotDir(bay);
    const state = snapshotDir(work);
    await Bun.sleep(20);
    expectSuccess(await sd("list", 0), listOutput(10, slots(vols4)));
    expect((await sd("listall", 0)).exitCode).toBe(0);
    expect(snapshotDir(bay)).toEqual(disk);
    expect(snapshotDir(work)).toEqual(state);
  });

  test("refresh tells Bacula once", async () => {
    expectSuccess(
      await runBinary([conf, "REFRESH"]),
      'Bacula updated (the volumes in the changer changed): update slots storage="usbchanger1" drive=0\n',
    );
    expect(bconsole.input()).toBe(updateSession("usbchanger1"));
    expectSuccess(
      await runBinary([conf, "refresh"]),
      "nothing to do: Bacula already has the current view\n",
    );
    expect(bconsole.input()).toBe(updateSession("usbchanger1"));
  });

  test("magazine 5 in the same bay finds 0.8's slots 1..10 taken: slots 11..20, one more refresh", async () => {
    expectSuccess(await sd("unload", 8));
    disk4.unmount();
    disk5.mount(bay);
    expectSuccess(await sd("list", 0), listOutput(20, slots(vols5, 11)));
    expectSuccess(
      await runBinary([conf, "refresh"]),
      'Bacula updated (the volumes in the changer changed): update slots storage="usbchanger1" drive=0\n',
    );
    disk5.unmount();
    disk4.mount(bay);
    expectSuccess(await sd("list", 0), listOutput(20, slots(vols4)));
  });

  test("a read-only disk is not adopted: list still answers, the disk is untouched, the log says why", async () => {
    disk4.unmount();
    const disk6 = createLoopFs(dir, "disk6");
    disk6.mount(bay);
    make08Magazine(bay, { changer: "usbchanger1", number: 6, volumes: 2 });
    disk6.remount("ro");
    const before = snapshotDir(bay);
    expectSuccess(await sd("list", 0), listOutput(20, {}));
    expect(snapshotDir(bay)).toEqual(before);
    expect(readFileSync(log, "utf8")).toContain(
      `warn: bay 1: cannot adopt the vchanger magazine at ${bay}: EROFS (read-only file system); make it writable by root`,
    );
    disk6.destroy();
  });

  test("0.8 files in a bare, unmounted bay directory are no magazine (0.8 bays keep the mount check)", async () => {
    make08Magazine(bay, { changer: "usbchanger1", number: 7, volumes: 2 });
    const before = snapshotDir(bay);
    expectSuccess(await sd("list", 0), listOutput(20, {}));
    expect(snapshotDir(bay)).toEqual(before);
    for (const name of readdirSync(bay)) rmSync(join(bay, name));
  });
});

describe("a vchanger 1.0 changer (directories of volumes)", () => {
  test("adopted on the first list: slots in name order, vchanger's drive link replaced, one refresh, then nothing changes", async () => {
    const dir = makeTempDir("vchanger10");
    dirs.push(dir);
    const mag = join(dir, "backup1");
    const work = join(dir, "work");
    mkdirSync(mag);
    mkdirSync(work);
    const vols = ["vc1_0_0002", "vc1_0_0001", "vc1_0_0003", "Full-0017"];
    make10Magazine(mag, vols);
    // vchanger 1.0 left drive 0 loaded: WORK_DIR/0 -> the volume, drive_state-0.
    symlinkSync(join(mag, "vc1_0_0002"), join(work, "0"));
    writeFileSync(join(work, "drive_state-0"), `${mag},vc1_0_0002\n`);
    writeFileSync(join(work, "bay_state-0"), `${mag},4,1\n`);
    const bconsole = fakeDirector(dir, [mag]);
    const conf = writeConf10(join(dir, "vchanger.conf"), {
      name: "vc1",
      workDir: work,
      logFile: join(dir, "vc1.log"),
      magazines: [mag],
      bconsole: bconsole.path,
    });
    const device = join(work, "0");
    // vchanger.conf's default pool: refresh lists it before anything is labeled.
    const session =
      'update slots storage="vc1" drive=0\nlist volumes pool="Scratch"\nlist volumes\nstatus storage="vc1"\nquit\n';
    const before = snapshotDir(mag);
    const listing = "1:Full-0017\n2:vc1_0_0001\n3:vc1_0_0002\n4:vc1_0_0003\n";
    expectSuccess(await runBinary([conf, "list", "0", device, "0"]), listing);
    expect(changedFiles(before, snapshotDir(mag))).toEqual([]);
    expectSuccess(await runBinary([conf, "loaded", "0", device, "0"]), "0\n");
    expectSuccess(await runBinary([conf, "load", "3", device, "0"]));
    expect(readFileSync(device, "utf8")).toBe(volumeData("vc1_0_0002"));
    expectSuccess(
      await runBinary([conf, "refresh"]),
      'Bacula updated (the volumes in the changer changed): update slots storage="vc1" drive=0\n',
    );
    expect(bconsole.input()).toBe(session);
    const state = snapshotDir(work);
    const disk = snapshotDir(mag);
    await Bun.sleep(20);
    expectSuccess(await runBinary([conf, "LIST"]), listing);
    expectSuccess(
      await runBinary([conf, "refresh"]),
      "nothing to do: Bacula already has the current view\n",
    );
    expect(snapshotDir(mag)).toEqual(disk);
    expect(snapshotDir(work)).toEqual(state);
    expect(bconsole.input()).toBe(session);
  });
});
