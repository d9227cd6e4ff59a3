// The changer operations run in-process over temp directories (allow_unmounted bays).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  openSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangerContext } from "../../src/changer/context.ts";
import {
  loadSlot,
  transferSlot,
  unloadDrive,
} from "../../src/changer/moves.ts";
import {
  loadedSlot,
  scanChanger,
  withLock,
} from "../../src/changer/operations.ts";
import {
  formatList,
  formatListAll,
  formatSlots,
} from "../../src/changer/protocol.ts";
import { validateConfig } from "../../src/config/load.ts";
import { nullLog } from "../../src/log.ts";
import { initMagazine } from "../../src/changer/init.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-ops-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let ctx: ChangerContext;
let n = 0;

beforeEach(async () => {
  const dir = join(root, String(++n));
  for (const d of ["bay1", "bay2", "work"])
    mkdirSync(join(dir, d), { recursive: true });
  const config = validateConfig(
    {
      name: "c",
      work_dir: join(dir, "work"),
      log_level: "off",
      drives: 2,
      magazine: [
        { path: join(dir, "bay1"), allow_unmounted: true },
        { path: join(dir, "bay2"), allow_unmounted: true },
      ],
    },
    "test.toml",
  );
  ctx = { config, log: nullLog, sys: realSystem(config.tools) };
  await initMagazine(ctx, 1, join(dir, "bay1"), { volumes: 3, force: false });
  await initMagazine(ctx, 2, join(dir, "bay2"), { volumes: 2, force: false });
});

const view = () => withLock(ctx, () => scanChanger(ctx));

describe("changer operations", () => {
  test("list, listall and slots over two magazines with a loaded drive", async () => {
    await loadSlot(ctx, 2, 1);
    const v = await view();
    expect(formatSlots(v)).toBe("5\n");
    expect(formatList(v)).toBe(
      "1:c_0001_0001\n2:c_0001_0002\n3:c_0001_0003\n4:c_0002_0001\n5:c_0002_0002\n",
    );
    expect(formatListAll(v, 2)).toBe(
      "D:0:E\nD:1:F:2:c_0001_0002\nS:1:F:c_0001_0001\nS:2:E\nS:3:F:c_0001_0003\nS:4:F:c_0002_0001\nS:5:F:c_0002_0002\n",
    );
    expect(loadedSlot(ctx, 1)).toBe(2);
    expect(loadedSlot(ctx, 0)).toBe(0);
    expect(loadedSlot(ctx, 7)).toBe(0); // a drive the config does not have holds nothing
  });

  test("the drive symlink resolves to the volume through the identity directory", async () => {
    await loadSlot(ctx, 4, 0);
    const link = join(ctx.config.work_dir, "drive0");
    expect(readlinkSync(link)).toMatch(
      /bay2\/\.magchanger-[0-9a-f-]{36}\/\.\.\/c_0002_0001$/,
    );
    await unloadDrive(ctx, 4, 0);
    expect(readlinkSync(link)).toBe("/dev/null/magchanger-drive-0-is-empty");
    expect(() => openSync(link, "a")).toThrow(); // an empty drive can never be written to
  });

  test("an absent magazine's slots read empty, its volume cannot be loaded, and come back unchanged", async () => {
    await loadSlot(ctx, 1, 0);
    const bay1 = ctx.config.magazine[0]?.path as string;
    renameSync(bay1, `${bay1}.away`);
    mkdirSync(bay1); // an empty directory where the disk was
    expect(loadedSlot(ctx, 0)).toBe(0);
    expect(() => openSync(join(ctx.config.work_dir, "drive0"), "a")).toThrow(
      /ENOENT/,
    );
    expect(formatList(await view())).toBe(
      "1:\n2:\n3:\n4:c_0002_0001\n5:c_0002_0002\n",
    );
    await expect(loadSlot(ctx, 3, 1)).rejects.toThrow(
      "Source Element Address 3 is Empty (volume c_0001_0003 is on magazine 1, which is not attached)",
    );
    rmSync(bay1, { recursive: true });
    renameSync(`${bay1}.away`, bay1);
    expect(loadedSlot(ctx, 0)).toBe(1);
    expect(formatList(await view())).toStartWith(
      "1:c_0001_0001\n2:c_0001_0002\n",
    );
  });

  test("load edge cases", async () => {
    await loadSlot(ctx, 1, 0);
    await loadSlot(ctx, 1, 0); // already there: success
    await expect(loadSlot(ctx, 1, 1)).rejects.toThrow(
      "slot 1 is already loaded in drive 0; unload drive 0 first",
    );
    await expect(loadSlot(ctx, 6, 1)).rejects.toThrow(
      "slot 6 is out of range: the changer has slots 1..5",
    );
    await expect(loadSlot(ctx, 0, 1)).rejects.toThrow("slot 0 is out of range");
    await expect(loadSlot(ctx, 1, 2)).rejects.toThrow(
      "drive 2 is out of range: changer c has drives 0..1",
    );
    await unloadDrive(ctx, undefined, 1); // empty: success
    await loadSlot(ctx, 2, 0); // replaces slot 1 in drive 0
    expect(loadedSlot(ctx, 0)).toBe(2);
  });

  test("a volume removed from its magazine leaves an empty, retired slot", async () => {
    rmSync(join(ctx.config.magazine[0]?.path as string, "c_0001_0002"));
    const v = await view();
    expect(formatList(v)).toStartWith("1:c_0001_0001\n2:\n3:c_0001_0003\n");
    expect(formatSlots(v)).toBe("5\n");
    await expect(loadSlot(ctx, 2, 0)).rejects.toThrow(
      "Source Element Address 2 is Empty (volume c_0001_0002 was removed from its magazine)",
    );
    writeFileSync(
      join(ctx.config.magazine[0]?.path as string, "c_0009_0001"),
      "",
    );
    expect(formatList(await view())).toBe(
      "1:c_0001_0001\n2:\n3:c_0001_0003\n4:c_0002_0001\n5:c_0002_0002\n6:c_0009_0001\n",
    );
  });

  test("transfer moves a volume to an unused slot only", async () => {
    await expect(transferSlot(ctx, 1, 2)).rejects.toThrow(
      "destination slot 2 is not empty: it belongs to volume c_0001_0002",
    );
    await transferSlot(ctx, 1, 1);
    rmSync(join(ctx.config.magazine[1]?.path as string, "c_0002_0002"));
    await view(); // slot 5 retired
    await expect(transferSlot(ctx, 1, 5)).rejects.toThrow(
      "destination slot 5 is not empty",
    );
    await loadSlot(ctx, 3, 0);
    await expect(transferSlot(ctx, 3, 5)).rejects.toThrow(
      "slot 3 is loaded in drive 0",
    );
  });
});
