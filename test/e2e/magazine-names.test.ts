// Names for disks and what a failed load records, on real ext4 loop disks through one bay (root
// runs the binary, as udev and the admin do): `magazine init --name`, `magazine rename`, the
// drawer in `magazine list`, `where`, and the volume-needed event a failed `load` queues with
// nothing printed beyond its one error line, while `loaded`, `list` and a successful `load`
// queue nothing and write nothing new.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { TestChanger } from "../helpers/changer.ts";
import { expectFailure, expectSuccess } from "../helpers/expect.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const SUITE =
  "magazine names, the drawer and the failed-load record (ext4 loop disks)";
const UUID = "[0-9a-f-]{36}";

describe.skipIf(skipUnless(["loop"], SUITE))(SUITE, () => {
  let dir = "";
  let bay = "";
  let changer: TestChanger;
  let diskA: LoopFs;
  let diskB: LoopFs;
  let volsA: string[] = [];
  let volsB: string[] = [];

  const insert = (disk: LoopFs) => {
    for (const d of [diskA, diskB]) if (d !== disk) d.unmount();
    if (!disk.mountPoint) disk.mount(bay);
  };
  const eventFiles = () => {
    const events = join(changer.workDir, "events");
    return existsSync(events)
      ? readdirSync(events)
          .filter((n) => n.endsWith(".json"))
          .sort()
      : [];
  };
  const magazine = (...args: string[]) =>
    runBinary([
      "magazine",
      ...args.slice(0, 1),
      "-c",
      changer.conf,
      ...args.slice(1),
    ]);

  beforeAll(async () => {
    dir = makeTempDir("names");
    bay = join(dir, "bay");
    mkdirSync(bay);
    diskA = createLoopFs(dir, "names-mon");
    diskB = createLoopFs(dir, "names-tue");
    changer = new TestChanger(dir, {
      name: "nm1",
      drives: 2,
      bays: [{ path: bay }],
    });
    diskA.mount(bay);
    volsA = await changer.init(1, 2, ["--name", "Monday"]);
    insert(diskB);
  });

  afterAll(() => {
    destroyAllLoopFs();
    if (dir) removeTempDir(dir);
  });

  test("init --name: a bad or taken name is a usage error and the disk stays untouched", async () => {
    for (const [name, why] of [
      ["12", "needs at least one letter"],
      ['Mon"day', "may hold only letters"],
      ["x".repeat(33), "must be 1..32 characters"],
    ] as const) {
      const r = await magazine("init", "1", "--name", name);
      expectFailure(
        r,
        2,
        new RegExp(`^magchanger: --name "${name.replace('"', '\\"')}" ${why}`),
      );
    }
    const taken = await magazine("init", "1", "--name", "monday");
    expectFailure(
      taken,
      2,
      new RegExp(
        `^magchanger: magazine 1 "Monday" \\(label names-mon, UUID ${UUID}\\) is already named "Monday"; pick another name`,
      ),
    );
    expect(readdirSync(bay)).toEqual(["lost+found"]);
    const made = await magazine(
      "init",
      "1",
      "--volumes",
      "2",
      "--name",
      "Tuesday",
    );
    expect(made.exitCode).toBe(0);
    expect(made.stdout).toMatch(
      new RegExp(
        `^magazine 2 "Tuesday" \\(label names-tue, UUID ${UUID}\\) initialized in bay 1 \\(${bay}\\)\n`,
      ),
    );
    volsB = ["nm1_0002_0001", "nm1_0002_0002"];
  });

  test("list shows the disk in the bay and the one in the drawer, by name, with volumes and when it was attached", async () => {
    const r = await magazine("list");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^bay 1 ${bay}: magazine 2 "Tuesday" \\(label names-tue, UUID ${UUID}\\), 2 volumes, slots 3\\.\\.4$`,
        "m",
      ),
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `^in the drawer: magazine 1 "Monday" \\(label names-mon, UUID ${UUID}\\), 2 volumes, slots 1\\.\\.2, last attached \\S+Z in bay 1$`,
        "m",
      ),
    );
    const json = JSON.parse((await magazine("list", "--json")).stdout);
    expect(json[1]).toMatchObject({
      bay: null,
      where: "drawer",
      magazine: 1,
      name: "Monday",
      volumes: 2,
    });
  });

  test("loaded, list and a successful load queue nothing and write nothing new; a failed load queues one volume-needed and prints one line", async () => {
    const work = changer.workDir;
    const known = statSync(join(work, "magazines.json")).mtimeMs;
    expectSuccess(await changer.sd("load", 3, 0));
    expectSuccess(await changer.sd("loaded", 0, 0), "3\n");
    expect((await changer.sd("list", 0, 0)).exitCode).toBe(0);
    expect(eventFiles()).toEqual([]);
    expect(existsSync(join(work, "wanted.json"))).toBe(false);

    expectFailure(
      await changer.sd("load", 1, 1),
      1,
      `Source Element Address 1 is Empty (volume ${volsA[0]} is on magazine 1, which is not attached)`,
    );
    const files = eventFiles();
    expect(files).toHaveLength(1);
    const event = JSON.parse(
      readFileSync(join(work, "events", files[0] as string), "utf8"),
    );
    expect(event).toMatchObject({
      kind: "volume-needed",
      volume: volsA[0],
      slot: 1,
      magazine: { number: 1, name: "Monday", label: "names-mon" },
    });
    expect(statSync(join(work, "magazines.json")).mtimeMs).toBe(known);
    expectSuccess(await changer.sd("unload", 3, 0));
  });

  test("where names the disk of a volume: attached, in the drawer, or no volume of this changer", async () => {
    const inBay = await runBinary([
      "where",
      "-c",
      changer.conf,
      volsB[1] as string,
    ]);
    expect(inBay.stdout).toMatch(
      new RegExp(
        `^${volsB[1]}: slot 4 on magazine 2 "Tuesday" \\(label names-tue, UUID ${UUID}\\), attached at ${bay}\n$`,
      ),
    );
    const drawer = await runBinary([
      "where",
      "-c",
      changer.conf,
      volsA[1] as string,
    ]);
    expect(drawer.stdout).toMatch(
      new RegExp(
        `^${volsA[1]}: slot 2 on magazine 1 "Monday" \\(label names-mon, UUID ${UUID}\\), in the drawer \\(last attached \\S+ in bay 1\\): attach it for Bacula to use this volume\n$`,
      ),
    );
    expectFailure(
      await runBinary(["where", "-c", changer.conf, "nm1_0009_0001"]),
      1,
      `volume nm1_0009_0001 is not a volume of changer nm1; \`magchanger magazine list -c ${changer.conf}\` shows its magazines`,
    );
  });

  test("rename: by bay or number; a number that means two different disks is refused; names stay unique", async () => {
    const ambiguous = await magazine("rename", "1", "Thursday");
    expectFailure(
      ambiguous,
      2,
      new RegExp(
        `^magchanger: "1" is ambiguous: magazine 1 is in the drawer, and bay 1 holds magazine 2`,
      ),
    );
    expectFailure(
      await magazine("rename", "2", "Monday"),
      2,
      /^magchanger: magazine 1 "Monday" .* is already named "Monday"/,
    );
    const renamed = await magazine("rename", "2", "Thursday");
    expect(renamed.exitCode).toBe(0);
    expect(renamed.stdout).toMatch(
      new RegExp(
        `^bay 1: magazine 2 "Thursday" \\(label names-tue, UUID ${UUID}\\) \\(was "Tuesday"\\)\n$`,
      ),
    );
    // On the disk itself, so it travels with it; and in the work dir for when it is away.
    const id = readdirSync(bay).find((n) =>
      n.startsWith(".magchanger-"),
    ) as string;
    expect(
      JSON.parse(readFileSync(join(bay, id, "magazine.json"), "utf8")).name,
    ).toBe("Thursday");
    const byPath = await magazine("rename", bay, "Friday");
    expect(byPath.stdout).toContain('"Friday"');
    insert(diskA);
    const drawer = (await magazine("list")).stdout;
    expect(drawer).toMatch(/^in the drawer: magazine 2 "Friday" /m);
  });
});
