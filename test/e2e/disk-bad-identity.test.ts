// A disk's identity and content that the changer must survive (issue 10, items 1, 2, 6, 13):
// a magazine.json whose number is out of range or whose JSON is not an object makes that bay
// absent with a logged reason, never a registry the parser refuses; createvols never registers
// a barcode twice; only `.magchanger-<uuid>` names are identities; a hard link is one volume.
// Directory bays (allow_unmounted): no loop devices needed.
import { afterAll, describe, expect, test } from "bun:test";
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

async function changerWith(
  name: string,
  bays: number,
  volumes: number,
): Promise<{ c: TestChanger; bays: string[]; barcodes: string[][] }> {
  const dir = makeTempDir(name);
  dirs.push(dir);
  const paths = Array.from({ length: bays }, (_, i) =>
    join(dir, `bay${i + 1}`),
  );
  for (const p of paths) mkdirSync(p);
  const c = new TestChanger(dir, {
    name,
    bays: paths.map((path) => ({ path, allowUnmounted: true })),
  });
  const barcodes: string[][] = [];
  for (let i = 1; i <= bays; i++) barcodes.push(await c.init(i, volumes));
  return { c, bays: paths, barcodes };
}

function identityJson(bay: string): string {
  const name = readdirSync(bay).find((n) => n.startsWith(".magchanger-"));
  if (!name) throw new Error(`no identity in ${bay}`);
  return join(bay, name, "magazine.json");
}

describe("magazine.json out of range or not an object", () => {
  const bad: [string, (j: Record<string, unknown>) => string][] = [
    ["number 0", (j) => JSON.stringify({ ...j, number: 0 })],
    ["number -1", (j) => JSON.stringify({ ...j, number: -1 })],
    ["number 1e300", (j) => JSON.stringify({ ...j, number: 1e300 })],
    ["number 2^53+2", (j) => JSON.stringify({ ...j, number: 2 ** 53 + 2 })],
    ["number 1.5", (j) => JSON.stringify({ ...j, number: 1.5 })],
    ["number 10000", (j) => JSON.stringify({ ...j, number: 10000 })],
    ["lastVolume -5", (j) => JSON.stringify({ ...j, lastVolume: -5 })],
    ["null", () => "null"],
    ["an array", () => "[1,2]"],
    ["a string", () => '"magazine"'],
  ];
  for (const [what, edit] of bad) {
    test(`${what}: the bay is absent with a logged reason, and fixing the disk brings it back`, async () => {
      const { c, bays, barcodes } = await changerWith("bid", 1, 3);
      const file = identityJson(bays[0] as string);
      const good = readFileSync(file, "utf8");
      writeFileSync(file, edit(JSON.parse(good)));
      expectSuccess(await c.sd("list", 0, 0), listOutput(3, {}));
      expectSuccess(await c.sd("slots", 0, 0), "3\n");
      expect(readFileSync(c.logFile, "utf8")).toContain(
        `${file} is not a valid magazine identity`,
      );
      c.readRegistry();
      writeFileSync(file, good);
      expectSuccess(
        await c.sd("list", 0, 0),
        listOutput(3, slotsOf(barcodes[0] as string[])),
      );
    });
  }
});

describe("createvols never registers a barcode twice", () => {
  test("magazine.json lastVolume lowered after a volume file was removed: the registered name is skipped", async () => {
    const { c, bays, barcodes } = await changerWith("bcv", 1, 3);
    const bay = bays[0] as string;
    const [, , third] = barcodes[0] as string[];
    rmSync(join(bay, third as string));
    const file = identityJson(bay);
    const j = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...j, lastVolume: 1 }));
    const result = await c.createvols(1, 2);
    expect({ code: result.exitCode, err: result.stderr }).toEqual({
      code: 0,
      err: "magchanger: warning: magazine 1: bcv_0001_0002 is already registered; skipped\nmagchanger: warning: magazine 1: bcv_0001_0003 is already registered; skipped\n",
    });
    const registry = c.readRegistry();
    const names = [...registry.slots.values()].map((e) => e.barcode).sort();
    expect(names).toEqual([
      "bcv_0001_0001",
      "bcv_0001_0002",
      "bcv_0001_0003",
      "bcv_0001_0004",
      "bcv_0001_0005",
    ]);
    expect(registry.slots.get(3)?.barcode).toBe("bcv_0001_0003");
    expectSuccess(await c.sd("slots", 0, 0), "5\n");
  });

  test("two magazines with one number after the registry was moved aside: the other's names are skipped", async () => {
    const { c, bays } = await changerWith("bcw", 2, 2);
    // Both bays were initialized as magazine 1 and 2; renumber bay 2's identity to 1, as a
    // second init after `slots` was moved aside would have.
    const file = identityJson(bays[1] as string);
    const j = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...j, number: 1, lastVolume: 0 }));
    expect((await c.sd("list", 0, 0)).exitCode).toBe(0);
    const result = await c.createvols(2, 1);
    expect({ code: result.exitCode, err: result.stderr }).toEqual({
      code: 0,
      err: "magchanger: warning: magazine 1: bcw_0001_0001 is already registered; skipped\nmagchanger: warning: magazine 1: bcw_0001_0002 is already registered; skipped\n",
    });
    const registry = c.readRegistry();
    const onBay2 = [...registry.slots.values()]
      .filter((e) => e.magazine === j.uuid)
      .map((e) => e.barcode)
      .sort();
    expect(onBay2).toContain("bcw_0001_0003");
    expect(onBay2).not.toContain("bcw_0001_0001");
    expectSuccess(await c.sd("slots", 0, 0), `${registry.slots.size}\n`);
  });
});

describe("what on a disk is an identity, what is a volume", () => {
  test("a stray .magchanger-notes.txt file is no second identity", async () => {
    const { c, bays, barcodes } = await changerWith("bst", 1, 2);
    writeFileSync(join(bays[0] as string, ".magchanger-notes.txt"), "notes\n");
    mkdirSync(join(bays[0] as string, ".magchanger-backup"));
    expectSuccess(
      await c.sd("list", 0, 0),
      listOutput(2, slotsOf(barcodes[0] as string[])),
    );
  });

  test("a hard link of a volume under another legal name is one volume, with a warning naming both", async () => {
    const { c, bays, barcodes } = await changerWith("bhl", 1, 2);
    const bay = bays[0] as string;
    const first = (barcodes[0] as string[])[0] as string;
    linkSync(join(bay, first), join(bay, "another_name"));
    linkSync(join(bay, first), join(bay, "aaa_before"));
    expectSuccess(
      await c.sd("list", 0, 0),
      listOutput(2, slotsOf(barcodes[0] as string[])),
    );
    const log = readFileSync(c.logFile, "utf8");
    expect(log).toContain(`"another_name" is a hard link of "${first}"`);
    expect(log).toContain(`"aaa_before" is a hard link of "${first}"`);
    expectSuccess(
      await c.sd("list", 0, 0),
      listOutput(2, slotsOf(barcodes[0] as string[])),
    );
  });

  test("two new hard-linked names: the first in name order gets the slot", async () => {
    const { c, bays, barcodes } = await changerWith("bhm", 1, 1);
    const bay = bays[0] as string;
    writeFileSync(join(bay, "vol_b"), "");
    linkSync(join(bay, "vol_b"), join(bay, "vol_a"));
    expectSuccess(
      await c.sd("list", 0, 0),
      listOutput(2, { 1: (barcodes[0] as string[])[0] as string, 2: "vol_a" }),
    );
  });
});
