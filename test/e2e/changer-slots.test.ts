// DESIGN property 1: a volume keeps its slot for as long as it exists -- across added and
// removed volumes, disk swaps in one bay, remounts and restarts (every call is a new process) --
// and a slot is never reused for a different volume. vchanger renumbers a whole magazine when
// one file is added; these tests would catch that.
import { skipUnless } from "../helpers/capabilities.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  cpSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => {
  destroyAllLoopFs();
  for (const dir of dirs) removeTempDir(dir);
});

async function plainChanger(
  bays = 1,
): Promise<{ changer: TestChanger; bay: string[] }> {
  const dir = makeTempDir("slots");
  dirs.push(dir);
  const bay = Array.from({ length: bays }, (_, i) => join(dir, `bay${i + 1}`));
  for (const b of bay) mkdirSync(b);
  const changer = new TestChanger(dir, {
    name: "sl1",
    bays: bay.map((path) => ({ path, allowUnmounted: true })),
  });
  return { changer, bay };
}

describe("slot numbers on one magazine (plain directory)", () => {
  test("a volume added to a magazine gets a new slot and no other slot changes", async () => {
    const { changer, bay } = await plainChanger();
    const vols = await changer.init(1, 3);
    expectSuccess(await changer.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
    // Sorts before every existing name: a renumbering changer would shift them all.
    writeFileSync(join(bay[0] as string, "AAA_first"), "");
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, { ...slotsOf(vols), 4: "AAA_first" }),
    );
    expectSuccess(await changer.sd("slots", 0, 0), "4\n");
  });

  test("createvols adds volumes after the existing slots without renumbering", async () => {
    const { changer } = await plainChanger();
    const vols = await changer.init(1, 2);
    const added = await changer.createvols(1, 2);
    expect(added.exitCode).toBe(0);
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, slotsOf([...vols, "sl1_0001_0003", "sl1_0001_0004"])),
    );
  });

  test("a removed volume's slot stays empty and is not reused for another volume", async () => {
    const { changer, bay } = await plainChanger();
    const vols = await changer.init(1, 3);
    expectSuccess(await changer.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
    rmSync(join(bay[0] as string, vols[1] as string));
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(3, { 1: vols[0] as string, 3: vols[2] as string }),
    );
    writeFileSync(join(bay[0] as string, "new_volume"), "");
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, {
        1: vols[0] as string,
        3: vols[2] as string,
        4: "new_volume",
      }),
    );
    expectSuccess(await changer.sd("slots", 0, 0), "4\n");
  });

  test("a removed volume that comes back gets its old slot", async () => {
    const { changer, bay } = await plainChanger();
    const vols = await changer.init(1, 3);
    const path = join(bay[0] as string, vols[0] as string);
    rmSync(path);
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(3, { 2: vols[1] as string, 3: vols[2] as string }),
    );
    writeFileSync(path, "restored from a copy");
    expectSuccess(await changer.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
  });

  test("a volume file replaced under the same name keeps its slot", async () => {
    const { changer, bay } = await plainChanger();
    const vols = await changer.init(1, 3);
    const path = join(bay[0] as string, vols[2] as string);
    writeFileSync(`${path}.new`, "new bytes");
    renameSync(`${path}.new`, path);
    expectSuccess(await changer.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
  });

  test("a copy of a magazine (same identity) in a second bay gives its volumes no second slots", async () => {
    const { changer, bay } = await plainChanger(2);
    const vols = await changer.init(1, 2);
    cpSync(bay[0] as string, bay[1] as string, { recursive: true });
    expectSuccess(await changer.sd("list", 0, 0), listOutput(2, slotsOf(vols)));
    expectSuccess(await changer.sd("slots", 0, 0), "2\n");
    expectSuccess(await changer.sd("load", 2, 0));
    expect(realpathSync(changer.driveLink(0))).toBe(
      join(bay[0] as string, vols[1] as string),
    );
  });

  test("a volume moved between two present magazines keeps its slot", async () => {
    const { changer, bay } = await plainChanger(2);
    const one = await changer.init(1, 2);
    const two = await changer.init(2, 2);
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, slotsOf([...one, ...two])),
    );
    renameSync(
      join(bay[0] as string, one[0] as string),
      join(bay[1] as string, one[0] as string),
    );
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, slotsOf([...one, ...two])),
    );
    expectSuccess(await changer.sd("load", 1, 0));
    expectSuccess(await changer.sd("loaded", 0, 0), "1\n");
  });
});

const SUITE =
  "slot numbers across disk swaps in one bay (ext4 on loop devices)";

describe.skipIf(skipUnless(["loop"], SUITE))(SUITE, () => {
  let changer: TestChanger;
  let bay = "";
  let diskA: LoopFs;
  let diskB: LoopFs;
  let volsA: string[] = [];
  let volsB: string[] = [];

  const swapTo = (disk: LoopFs) => {
    for (const d of [diskA, diskB]) d.unmount();
    disk.mount(bay);
  };

  beforeAll(async () => {
    const dir = makeTempDir("swap");
    dirs.push(dir);
    bay = join(dir, "bay");
    mkdirSync(bay);
    diskA = createLoopFs(dir, "swapA");
    diskB = createLoopFs(dir, "swapB");
    changer = new TestChanger(dir, { name: "sw1", bays: [{ path: bay }] });
    diskA.mount(bay);
    volsA = await changer.init(1, 3);
    swapTo(diskB);
    volsB = await changer.init(1, 2);
  });

  test("each disk keeps its slots while the other is in the bay, and across remounts", async () => {
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(5, slotsOf(volsB, 4)),
    );
    swapTo(diskA);
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(5, slotsOf(volsA)),
    );
    expectSuccess(await changer.sd("slots", 0, 0), "5\n");
    swapTo(diskA);
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(5, slotsOf(volsA)),
    );
    swapTo(diskB);
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(5, slotsOf(volsB, 4)),
    );
    expectSuccess(await changer.sd("slots", 0, 0), "5\n");
  });

  test("volumes added and removed on one disk while the other is away number after every known slot", async () => {
    swapTo(diskA);
    expect((await changer.createvols(1, 1)).exitCode).toBe(0);
    rmSync(join(bay, volsA[0] as string));
    const a = {
      2: volsA[1] as string,
      3: volsA[2] as string,
      6: "sw1_0001_0004",
    };
    expectSuccess(await changer.sd("list", 0, 0), listOutput(6, a));
    swapTo(diskB);
    writeFileSync(join(bay, "extra_b"), "");
    const b = { 4: volsB[0] as string, 5: volsB[1] as string, 7: "extra_b" };
    expectSuccess(await changer.sd("list", 0, 0), listOutput(7, b));
    swapTo(diskA);
    expectSuccess(await changer.sd("list", 0, 0), listOutput(7, a));
    expectSuccess(
      await changer.sd("listall", 0, 0),
      `D:0:E\nD:1:E\nS:1:E\nS:2:F:${a[2]}\nS:3:F:${a[3]}\nS:4:E\nS:5:E\nS:6:F:${a[6]}\nS:7:E\n`,
    );
    swapTo(diskB);
    expectSuccess(await changer.sd("list", 0, 0), listOutput(7, b));
  });

  test("a drive loaded from one disk is empty while the other is in the bay and loaded again after the swap back", async () => {
    swapTo(diskB);
    expectSuccess(await changer.sd("load", 4, 1));
    swapTo(diskA);
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
    expectSuccess(await changer.sd("load", 2, 0));
    swapTo(diskB);
    expectSuccess(await changer.sd("loaded", 0, 1), "4\n");
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
    expectSuccess(await changer.sd("unload", 4, 1));
    expectSuccess(await changer.sd("unload", 2, 0));
  });
});
