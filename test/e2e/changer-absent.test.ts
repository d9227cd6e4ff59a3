// DESIGN properties 2 and 3 on real disks: ext4 filesystems on loop devices mounted in a bay.
// A loaded volume stays listed under its home slot; an empty mount point or the wrong disk is
// "magazine absent": `loaded` says 0, `load` says Empty, and the drive's archive device cannot
// be opened with O_CREAT (the storage daemon labelling a volume) because the path resolves only
// through the right, mounted disk.
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
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  realpathSync,
} from "node:fs";
import { join } from "node:path";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import { expectFailure, expectSuccess } from "../helpers/expect.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const SUITE = "a bay whose disk is absent or wrong (ext4 on loop devices)";

describe.skipIf(skipUnless(["loop"], SUITE))(SUITE, () => {
  let dir = "";
  let bay = "";
  let changer: TestChanger;
  let diskA: LoopFs;
  let diskB: LoopFs;
  let blank: LoopFs;
  let foreign: LoopFs;
  let volsA: string[] = [];
  let volsB: string[] = [];
  /** list output with disk A in the bay: slots 1..3 are A's, 4..5 B's. */
  let listA = "";

  const insert = (disk: LoopFs) => {
    for (const d of [diskA, diskB, blank, foreign]) if (d !== disk) d.unmount();
    if (!disk.mountPoint) disk.mount(bay);
  };
  const eject = () => {
    for (const d of [diskA, diskB, blank, foreign]) d.unmount();
  };

  beforeAll(async () => {
    dir = makeTempDir("absent");
    bay = join(dir, "bay");
    mkdirSync(bay);
    diskA = createLoopFs(dir, "diskA");
    diskB = createLoopFs(dir, "diskB");
    blank = createLoopFs(dir, "blank");
    foreign = createLoopFs(dir, "foreign");
    changer = new TestChanger(dir, {
      name: "ab1",
      drives: 2,
      bays: [{ path: bay }],
    });
    diskA.mount(bay);
    volsA = await changer.init(1, 3);
    insert(diskB);
    volsB = await changer.init(1, 2);
    insert(foreign);
    const other = new TestChanger(dir, {
      name: "other",
      drives: 1,
      bays: [{ path: bay }],
    });
    await other.init(1, 2);
    listA = listOutput(5, slotsOf(volsA));
  });

  afterAll(() => {
    destroyAllLoopFs();
    if (dir) removeTempDir(dir);
  });

  beforeEach(async () => {
    insert(diskA);
    for (let drive = 0; drive < changer.drives; drive++)
      expectSuccess(await changer.sd("unload", 0, drive));
  });

  test("list shows a loaded volume under its home slot, and slots covers every listed slot", async () => {
    expectSuccess(await changer.sd("load", 2, 0));
    expectSuccess(await changer.sd("list", 0, 0), listA);
    const slots = Number((await changer.sd("slots", 0, 0)).stdout);
    const listed = listA
      .trim()
      .split("\n")
      .map((line) => Number(line.split(":")[0]));
    expect(slots).toBeGreaterThanOrEqual(Math.max(...listed));
    expectSuccess(
      await changer.sd("listall", 0, 0),
      `D:0:F:2:${volsA[1]}\nD:1:E\nS:1:F:${volsA[0]}\nS:2:E\nS:3:F:${volsA[2]}\nS:4:E\nS:5:E\n`,
    );
    expect(realpathSync(changer.driveLink(0))).toBe(
      join(bay, volsA[1] as string),
    );
  });

  test("an empty mount point is absent: loaded 0, load Empty, no file can be created through the drive", async () => {
    expectSuccess(await changer.sd("load", 2, 0));
    eject();
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
    expectFailure(
      await changer.sd("load", 1, 1),
      1,
      `Source Element Address 1 is Empty (volume ${volsA[0]} is on magazine 1, which is not attached)`,
    );
    // What the storage daemon does to label a volume: open(O_CREAT) through the archive device.
    expect(() => openSync(changer.driveLink(0), "a")).toThrow(/ENOENT/);
    expect(() => openSync(changer.driveLink(1), "a")).toThrow(/ENOTDIR|ENOENT/);
    expect(readdirSync(bay)).toEqual([]);
    // The slots stay (a brief unmount renumbers nothing); none is listed full.
    expectSuccess(await changer.sd("list", 0, 0), listOutput(5, {}));
    expectSuccess(await changer.sd("slots", 0, 0), "5\n");
    expectSuccess(
      await changer.sd("listall", 0, 0),
      "D:0:E\nD:1:E\nS:1:E\nS:2:E\nS:3:E\nS:4:E\nS:5:E\n",
    );
    expect(readdirSync(bay)).toEqual([]);
  });

  test("after the disk is mounted again, loaded reports the slot again (autofs expiry)", async () => {
    expectSuccess(await changer.sd("load", 3, 1));
    eject();
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
    expectSuccess(await changer.sd("list", 0, 0), listOutput(5, {}));
    insert(diskA);
    expectSuccess(await changer.sd("loaded", 0, 1), "3\n");
    expect(realpathSync(changer.driveLink(1))).toBe(
      join(bay, volsA[2] as string),
    );
    expectSuccess(await changer.sd("list", 0, 0), listA);
  });

  test("another magazine of the same changer in the bay is the wrong disk for a loaded drive", async () => {
    expectSuccess(await changer.sd("load", 2, 0));
    insert(diskB);
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
    expect(() => openSync(changer.driveLink(0), "a")).toThrow(/ENOENT/);
    expect(existsSync(join(bay, volsA[1] as string))).toBe(false);
    expectFailure(
      await changer.sd("load", 3, 1),
      1,
      `Source Element Address 3 is Empty (volume ${volsA[2]} is on magazine 1, which is not attached)`,
    );
    // The slot in drive 0 is still that drive's: another drive may not take it.
    expectFailure(
      await changer.sd("load", 2, 1),
      1,
      "slot 2 is already loaded in drive 0; unload drive 0 first",
    );
    // B's own volumes are there to load.
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(5, slotsOf(volsB, 4)),
    );
    expectSuccess(await changer.sd("load", 4, 1));
    expect(realpathSync(changer.driveLink(1))).toBe(
      join(bay, volsB[0] as string),
    );
    insert(diskA);
    expectSuccess(await changer.sd("loaded", 0, 0), "2\n");
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
  });

  test("a disk without a magchanger identity in the bay is absent and nothing is written to it", async () => {
    expectSuccess(await changer.sd("load", 1, 0));
    insert(blank);
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
    expectSuccess(await changer.sd("list", 0, 0), listOutput(5, {}));
    expectFailure(
      await changer.sd("load", 2, 1),
      1,
      `Source Element Address 2 is Empty (volume ${volsA[1]} is on magazine 1, which is not attached)`,
    );
    expect(() => openSync(changer.driveLink(0), "a")).toThrow(/ENOENT/);
    expect(readdirSync(bay)).toEqual(["lost+found"]);
  });

  test("a magazine of another changer in the bay is absent and its volumes are not listed", async () => {
    insert(foreign);
    expectSuccess(await changer.sd("list", 0, 0), listOutput(5, {}));
    expectSuccess(await changer.sd("slots", 0, 0), "5\n");
    expectFailure(
      await changer.sd("load", 1, 0),
      1,
      `Source Element Address 1 is Empty (volume ${volsA[0]} is on magazine 1, which is not attached)`,
    );
    insert(diskA);
    expectSuccess(await changer.sd("list", 0, 0), listA);
  });
});
