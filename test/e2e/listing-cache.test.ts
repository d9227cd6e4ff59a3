// The listing cache answers list/listall/slots without the lock or a directory scan only while
// nothing they depend on changed. Each test holds the changer's lock from another process: a call
// that still succeeds was answered from the cache; one that fails with exit 4 had to rescan.
import { skipUnless } from "../helpers/capabilities.ts";
import {
  afterAll,
  afterEach,
  beforeEach,
  describe,
  expect,
  test,
} from "bun:test";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  barcode,
  listOutput,
  slotsOf,
  TestChanger,
} from "../helpers/changer.ts";
import { type LockHolder, holdLock } from "../helpers/lock.ts";
import { createLoopFs, destroyAllLoopFs } from "../helpers/loop.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

let changer: TestChanger;
let bays: string[];
let holder: LockHolder | undefined;
const hour = Date.now() / 1000 - 3600;
const backdate = (path: string) => utimesSync(path, hour, hour);
const lock = async () => {
  holder = await holdLock(join(changer.workDir, "lock"));
};
const unlock = () => {
  holder?.kill();
  holder = undefined;
};

beforeEach(async () => {
  const dir = makeTempDir("listing-cache");
  dirs.push(dir);
  bays = [join(dir, "bay1"), join(dir, "bay2")];
  for (const bay of bays) mkdirSync(bay);
  changer = new TestChanger(dir, {
    name: "lc",
    lockTimeout: 0.3,
    bays: bays.map((path) => ({ path, allowUnmounted: true })),
  });
  await changer.init(1, 3);
  await changer.init(2, 2);
  for (const bay of bays) backdate(bay);
});
afterEach(unlock);

const all = () => [
  ...[1, 2, 3].map((v) => barcode("lc", 1, v)),
  ...[1, 2].map((v) => barcode("lc", 2, v)),
];

describe("listing cache", () => {
  test("an unchanged changer is answered without the lock, byte for byte", async () => {
    const first = await changer.sd("list", 0, 0);
    expect(first).toMatchObject({
      exitCode: 0,
      stdout: listOutput(5, slotsOf(all())),
      stderr: "",
    });
    const listall = (await changer.sd("listall", 0, 0)).stdout;
    await lock();
    expect(await changer.sd("list", 0, 0)).toMatchObject({
      exitCode: 0,
      stdout: first.stdout,
      stderr: "",
    });
    expect(await changer.sd("slots", 0, 0)).toMatchObject({
      exitCode: 0,
      stdout: "5\n",
    });
    expect(await changer.sd("listall", 0, 0)).toMatchObject({
      exitCode: 0,
      stdout: listall,
    });
  });

  test("a volume added to a magazine is seen at once", async () => {
    await changer.sd("list", 0, 0);
    writeFileSync(join(bays[0] as string, "lc_0001_0009"), "");
    await lock();
    expect((await changer.sd("list", 0, 0)).exitCode).toBe(4); // had to rescan
    unlock();
    expect((await changer.sd("list", 0, 0)).stdout).toBe(
      listOutput(6, slotsOf([...all(), "lc_0001_0009"])),
    );
    // Changed just now: not trusted until the magazine is older than the racy window.
    await lock();
    expect((await changer.sd("list", 0, 0)).exitCode).toBe(4);
  });

  test("a disk swapped in the bay is seen at once", async () => {
    await changer.sd("list", 0, 0);
    renameSync(bays[0] as string, `${bays[0]}.away`);
    mkdirSync(bays[0] as string);
    backdate(bays[0] as string);
    await lock();
    expect((await changer.sd("list", 0, 0)).exitCode).toBe(4);
    unlock();
    expect((await changer.sd("list", 0, 0)).stdout).toBe(
      listOutput(5, { 4: barcode("lc", 2, 1), 5: barcode("lc", 2, 2) }),
    );
  });

  test("listall follows loads and unloads from the cache (drive state is read on every call)", async () => {
    await changer.sd("list", 0, 0);
    expect((await changer.sd("load", 2, 0)).exitCode).toBe(0);
    await lock();
    const loaded = await changer.sd("listall", 0, 0);
    expect(loaded.exitCode).toBe(0);
    expect(loaded.stdout).toBe(
      [
        `D:0:F:2:${barcode("lc", 1, 2)}`,
        "D:1:E",
        `S:1:F:${barcode("lc", 1, 1)}`,
        "S:2:E",
        `S:3:F:${barcode("lc", 1, 3)}`,
        `S:4:F:${barcode("lc", 2, 1)}`,
        `S:5:F:${barcode("lc", 2, 2)}`,
        "",
      ].join("\n"),
    );
    unlock();
    // The same answer as a full scan gives.
    writeFileSync(join(changer.workDir, "listing.cache"), "stale");
    expect((await changer.sd("listall", 0, 0)).stdout).toBe(loaded.stdout);
  });

  test("listall from the cache equals a full scan with the first and last slots in drives", async () => {
    await changer.sd("list", 0, 0);
    expect((await changer.sd("load", 1, 0)).exitCode).toBe(0);
    expect((await changer.sd("load", 5, 1)).exitCode).toBe(0);
    await lock();
    const cached = await changer.sd("listall", 0, 0);
    expect(cached.exitCode).toBe(0);
    expect(cached.stdout).toStartWith(
      `D:0:F:1:${barcode("lc", 1, 1)}\nD:1:F:5:${barcode("lc", 2, 2)}\nS:1:E\nS:2:F:`,
    );
    expect(cached.stdout).toEndWith("S:5:E\n");
    unlock();
    writeFileSync(join(changer.workDir, "listing.cache"), "stale");
    expect((await changer.sd("listall", 0, 0)).stdout).toBe(cached.stdout);
  });

  test("a drive link left behind by a killed writer is repaired: the cache is not used", async () => {
    await changer.sd("list", 0, 0);
    const link = changer.driveLink(0);
    rmSync(link);
    symlinkSync(join(bays[0] as string, "lc_0001_0001"), link); // state says drive 0 is empty
    await lock();
    expect((await changer.sd("list", 0, 0)).exitCode).toBe(4);
    unlock();
    expect((await changer.sd("list", 0, 0)).exitCode).toBe(0);
    expect(readlinkSync(link)).toBe(changer.emptyTarget(0));
  });

  test("a registry or config change is seen at once", async () => {
    await changer.sd("list", 0, 0);
    expect(existsSync(join(changer.workDir, "listing.cache"))).toBe(true);
    expect((await changer.createvols(2, 1)).exitCode).toBe(0); // rewrites the registry
    backdate(bays[1] as string);
    await lock();
    expect((await changer.sd("slots", 0, 0)).exitCode).toBe(4);
    unlock();
    expect((await changer.sd("slots", 0, 0)).stdout).toBe("6\n");
    appendFileSync(changer.conf, "# edited\n");
    await lock();
    expect((await changer.sd("slots", 0, 0)).exitCode).toBe(4);
  });
});

const SUITE = "listing cache on a real mount point";

describe.skipIf(skipUnless(["loop"], SUITE))(SUITE, () => {
  test("an unmounted disk, or another disk mounted in its place, is never answered from the cache", async () => {
    const dir = makeTempDir("listing-cache-loop");
    dirs.push(dir);
    const bay = join(dir, "bay");
    const diskA = createLoopFs(dir, "cacheA");
    const diskB = createLoopFs(dir, "cacheB");
    try {
      changer = new TestChanger(dir, {
        name: "lm",
        lockTimeout: 0.3,
        bays: [{ path: bay }],
      });
      diskA.mount(bay);
      const volsA = await changer.init(1, 2);
      diskA.unmount();
      diskB.mount(bay);
      await changer.init(1, 1);
      backdate(bay);
      diskB.unmount();
      diskA.mount(bay);
      backdate(bay);
      expect((await changer.sd("list", 0, 0)).stdout).toBe(
        listOutput(3, slotsOf(volsA)),
      );
      await lock();
      expect((await changer.sd("list", 0, 0)).exitCode).toBe(0); // cached
      diskA.unmount(); // the empty mount point: same path, another device
      expect((await changer.sd("list", 0, 0)).exitCode).toBe(4);
      diskB.mount(bay);
      backdate(bay);
      expect((await changer.sd("list", 0, 0)).exitCode).toBe(4);
      unlock();
      expect((await changer.sd("list", 0, 0)).stdout).toBe(
        listOutput(3, { 3: barcode("lm", 2, 1) }),
      );
    } finally {
      unlock();
      destroyAllLoopFs();
    }
  });
});
