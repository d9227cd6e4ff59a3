// Adoption of vchanger magazines, in-process over temp directories (allow_unmounted bays; the
// mounted-disk cases run the compiled binary in test/e2e/vchanger-adopt.test.ts).
import { afterAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangerContext } from "../../src/changer/context.ts";
import { scanChanger, withLock } from "../../src/changer/operations.ts";
import { formatList } from "../../src/changer/protocol.ts";
import { validateConfig } from "../../src/config/load.ts";
import type { LegacyConfig } from "../../src/config/schema.ts";
import type { Log } from "../../src/log.ts";
import { readIdentity } from "../../src/disk/identity.ts";
import { initMagazine } from "../../src/changer/init.ts";
import {
  parseVolumeName,
  readIndex,
  vchanger08Bay,
} from "../../src/disk/vchanger08.ts";
import { realSystem } from "../../src/system/system.ts";
import { snapshotDir } from "../helpers/state.ts";
import {
  changedFiles,
  make08Magazine,
  make10Magazine,
} from "../helpers/vchanger.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-adopt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => {
    lines.push(`${level}: ${message}`);
  };
  return {
    lines,
    debug: () => {},
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    failure: undefined,
    close: () => {},
  };
}

function changer(
  bays: number,
  legacy: LegacyConfig | undefined,
  name = "usb1",
): { ctx: ChangerContext; log: string[]; bay: (i: number) => string } {
  const dir = join(root, String(++n));
  const paths = Array.from({ length: bays }, (_, i) =>
    join(dir, `bay${i + 1}`),
  );
  for (const p of [...paths, join(dir, "work")])
    mkdirSync(p, { recursive: true });
  const config = validateConfig(
    {
      name,
      work_dir: join(dir, "work"),
      log_level: "off",
      drives: 2,
      magazine: paths.map((path) => ({ path, allow_unmounted: true })),
      ...(legacy ? { legacy } : {}),
    },
    "vchanger.conf",
  );
  const log = recordingLog();
  return {
    ctx: { config, log, sys: realSystem(config.tools) },
    log: log.lines,
    bay: (i) => paths[i - 1] as string,
  };
}

const scan = (ctx: ChangerContext) => withLock(ctx, () => scanChanger(ctx));
const identityOf = (dir: string) => {
  const marker = readdirSync(dir).find((e) => e.startsWith(".magchanger-"));
  const identity = marker
    ? readIdentity(dir, marker.slice(".magchanger-".length))
    : undefined;
  return typeof identity === "string" || (identity && "failed" in identity)
    ? undefined
    : identity;
};
const V08: LegacyConfig = { vchanger: "0.8", slots_per_magazine: 10 };

describe("vchanger 1.0 magazines (directories of volumes)", () => {
  test("are adopted as they are: identity written, every file kept, new slots in name order", async () => {
    const { ctx, bay, log } = changer(2, { vchanger: "1.0" });
    make10Magazine(bay(1), ["vc_0_0002", "vc_0_0001", "vc_0_0003"]);
    make10Magazine(bay(2), ["vc_1_0001"]);
    const before = snapshotDir(bay(1));
    const view = await scan(ctx);
    expect(changedFiles(before, snapshotDir(bay(1)))).toEqual([]);
    expect(formatList(view)).toBe(
      "1:vc_0_0001\n2:vc_0_0002\n3:vc_0_0003\n4:vc_1_0001\n",
    );
    const identity = identityOf(bay(1));
    expect(identity).toMatchObject({
      changer: "usb1",
      number: 1,
      lastVolume: 0,
      vchanger: { layout: "1.0" },
    });
    expect(identityOf(bay(2))).toMatchObject({ number: 2 });
    expect(log.filter((l) => l.includes("adopted"))).toHaveLength(2);
  });

  test("a second scan changes nothing on the magazine or in the work dir", async () => {
    const { ctx, bay } = changer(1, { vchanger: "1.0" });
    make10Magazine(bay(1), ["a1", "a2"]);
    await scan(ctx);
    const magazine = snapshotDir(bay(1));
    const work = snapshotDir(ctx.config.work_dir);
    await Bun.sleep(20);
    await scan(ctx);
    expect(snapshotDir(bay(1))).toEqual(magazine);
    expect(snapshotDir(ctx.config.work_dir)).toEqual(work);
  });

  test("an empty directory is not adopted, and a TOML config adopts nothing", async () => {
    const empty = changer(1, { vchanger: "1.0" });
    const view = await scan(empty.ctx);
    expect(view.present.size).toBe(0);
    expect(view.magazines[0]?.reason).toBe(
      `${empty.bay(1)} carries no magchanger identity yet; a vchanger magazine there is adopted as it is by the changer's next scan (\`magchanger vchanger.conf list\`)`,
    );
    expect(readdirSync(empty.bay(1))).toEqual([]);
    const toml = changer(1, undefined);
    make10Magazine(toml.bay(1), ["a1"]);
    expect((await scan(toml.ctx)).present.size).toBe(0);
    expect(readdirSync(toml.bay(1))).toEqual(["a1"]);
  });
});

describe("vchanger 0.8 magazines (index, CHANGER_MMMM_SSSS, loadedN/driveN)", () => {
  test("keep 0.8's number and slots; index, loadedN and driveN are never volumes", async () => {
    const { ctx, bay } = changer(1, V08);
    const names = make08Magazine(bay(1), {
      changer: "usb1",
      number: 4,
      volumes: 10,
      drives: 2,
    });
    const view = await scan(ctx);
    expect(formatList(view)).toBe(
      names.map((name, i) => `${i + 1}:${name}\n`).join(""),
    );
    expect(identityOf(bay(1))).toMatchObject({
      number: 4,
      lastVolume: 10,
      vchanger: { layout: "0.8", index: 4 },
    });
    const again = await scan(ctx);
    const volumes = again.present.get(identityOf(bay(1))?.uuid ?? "")?.volumes;
    expect(volumes?.sort()).toEqual(names);
  });

  test("a volume 0.8 left loaded (driveN) gets its name back as a hard link; driveN is kept", async () => {
    const { ctx, bay, log } = changer(1, V08);
    make08Magazine(bay(1), {
      changer: "usb1",
      number: 4,
      volumes: 3,
      loaded: { drive: 0, volume: 2 },
    });
    const before = snapshotDir(bay(1));
    const view = await scan(ctx);
    expect(formatList(view)).toBe(
      "1:usb1_0004_0001\n2:usb1_0004_0002\n3:usb1_0004_0003\n",
    );
    expect(changedFiles(before, snapshotDir(bay(1)))).toEqual([]);
    expect(statSync(join(bay(1), "usb1_0004_0002")).ino).toBe(
      statSync(join(bay(1), "drive0")).ino,
    );
    expect(log).toContain(
      `info: bay 1: vchanger 0.8 left ${bay(1)}/drive0 loaded in drive 0: drive0 is now also named usb1_0004_0002 (a hard link: no data moved, drive0 kept)`,
    );
  });

  test("a driveN that loadedN does not name is left alone and reported", async () => {
    const { ctx, bay, log } = changer(1, V08);
    make08Magazine(bay(1), { changer: "usb1", number: 1, volumes: 2 });
    writeFileSync(join(bay(1), "drive1"), "?");
    const view = await scan(ctx);
    expect(formatList(view)).toBe("1:usb1_0001_0001\n2:usb1_0001_0002\n");
    expect(log.some((l) => l.startsWith("warn:") && l.includes("drive1"))).toBe(
      true,
    );
  });

  test("a second magazine in the same bay finds 0.8's slots taken and gets new ones", async () => {
    const { ctx, bay } = changer(1, V08);
    make08Magazine(bay(1), { changer: "usb1", number: 4, volumes: 2 });
    await scan(ctx);
    rmSync(bay(1), { recursive: true });
    mkdirSync(bay(1));
    make08Magazine(bay(1), { changer: "usb1", number: 5, volumes: 2 });
    const view = await scan(ctx);
    expect(formatList(view)).toBe(
      "1:\n2:\n3:usb1_0005_0001\n4:usb1_0005_0002\n",
    );
  });

  test("two bays: bay N's volumes keep (N - 1) * slots_per_magazine + SSSS", async () => {
    const { ctx, bay } = changer(2, {
      ...V08,
      slots_per_magazine: 3,
      magazine_bays: 2,
    });
    make08Magazine(bay(1), { changer: "usb1", number: 7, volumes: 2 });
    make08Magazine(bay(2), { changer: "usb1", number: 2, volumes: 3 });
    const view = await scan(ctx);
    expect(formatList(view)).toBe(
      "1:usb1_0007_0001\n2:usb1_0007_0002\n3:\n4:usb1_0002_0001\n5:usb1_0002_0002\n6:usb1_0002_0003\n",
    );
  });

  test("0.8.6's bayN files decide the bay", async () => {
    const { ctx, bay } = changer(2, {
      ...V08,
      slots_per_magazine: 3,
      magazine_bays: 2,
    });
    writeFileSync(join(ctx.config.work_dir, "bay1"), `${bay(2)}/\n`);
    make08Magazine(bay(1), { changer: "usb1", number: 7, volumes: 1 });
    make08Magazine(bay(2), { changer: "usb1", number: 2, volumes: 1 });
    const view = await scan(ctx);
    expect(formatList(view)).toBe(
      "1:usb1_0002_0001\n2:\n3:\n4:usb1_0007_0001\n",
    );
  });

  test("an index of another changer is not adopted; a taken number gets the next free one", async () => {
    const { ctx, bay, log } = changer(2, V08);
    make08Magazine(bay(1), { changer: "other", number: 1, volumes: 1 });
    make08Magazine(bay(2), { changer: "usb1", number: 1, volumes: 1 });
    const before = snapshotDir(bay(1));
    let view = await scan(ctx);
    expect(snapshotDir(bay(1))).toEqual(before);
    expect(view.magazines[0]?.reason).toBe(
      `${bay(1)} holds vchanger magazine 1 of changer other, not usb1`,
    );
    expect(formatList(view)).toBe("1:usb1_0001_0001\n");
    rmSync(bay(1), { recursive: true });
    mkdirSync(bay(1));
    make08Magazine(bay(1), { changer: "usb1", number: 1, volumes: 1 });
    view = await scan(ctx);
    expect(identityOf(bay(1))).toMatchObject({ number: 2 });
    expect(
      log.some((l) => l.includes("its number 1 belongs to another magazine")),
    ).toBe(true);
  });
});

test("magazine init refuses a vchanger 0.8 magazine, whose index, loadedN and driveN would become volumes", async () => {
  const { ctx, bay } = changer(1, undefined);
  make08Magazine(bay(1), { changer: "usb1", number: 4, volumes: 2 });
  const before = snapshotDir(bay(1));
  await expect(
    initMagazine(ctx, 1, bay(1), { volumes: 2, force: false }),
  ).rejects.toThrow(
    `bay 1 (${bay(1)}) holds a vchanger 0.8 magazine (index usb1_0004); with the vchanger.conf as config it is adopted as it is by the changer's next scan, or remove index, loadedN and driveN to start it afresh`,
  );
  expect(snapshotDir(bay(1))).toEqual(before);
});

describe("vchanger 0.8's file formats", () => {
  test("index and volume names parse as 0.8 reads them", () => {
    const dir = join(root, "index");
    mkdirSync(dir);
    writeFileSync(join(dir, "index"), "my_changer_0012");
    expect(readIndex(dir)).toEqual({
      changer: "my_changer",
      number: 12,
      text: "my_changer_0012",
    });
    writeFileSync(join(dir, "index"), "garbage");
    expect(readIndex(dir)).toBe(
      `${dir}/index holds "garbage", not vchanger's CHANGER_NNNN`,
    );
    expect(parseVolumeName("usb_1_0004_0010")).toEqual({
      changer: "usb_1",
      magazine: 4,
      volume: 10,
    });
    expect(parseVolumeName("README")).toBeUndefined();
  });

  test("bays: bayN files first, the other attached magazines fill the free bays in order", () => {
    const work = join(root, "bays");
    mkdirSync(work);
    const a = { path: "/m/a", allow_unmounted: false };
    const b = { uuid: "0B7F-11", allow_unmounted: false };
    const c = { path: "/m/c", allow_unmounted: false };
    expect(vchanger08Bay(work, 1, a, [a, c])).toBe(1);
    expect(vchanger08Bay(work, 1, c, [a, c])).toBeUndefined();
    writeFileSync(join(work, "bay1"), "UUID:0b7f-11\n");
    expect(vchanger08Bay(work, 2, b, [a, b, c])).toBe(1);
    expect(vchanger08Bay(work, 2, a, [a, b, c])).toBe(2);
    expect(vchanger08Bay(work, 2, c, [a, b, c])).toBeUndefined();
    // A bay file naming a magazine that is not attached frees the bay.
    expect(vchanger08Bay(work, 2, c, [a, c])).toBe(2);
  });
});
