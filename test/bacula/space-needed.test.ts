// A backup waiting for any appendable volume (issue 21): which magazines in the drawer hold
// volumes of its pool that Bacula may write, from the catalog and the registry, with their space
// when last seen; told once per wait as one space-needed event, or "a new disk is needed"; not
// told when an attached disk can serve it. The SD's and the catalog's wording are real 9.6.7
// captures (test/bacula/fixtures); the real Director's run is test/e2e/bacula/space-needed.test.ts.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CatalogVolume } from "../../src/bacula/catalog.ts";
import { parseStorageStatus } from "../../src/bacula/sd-status.ts";
import {
  appendWaits,
  readSpaceWaits,
  type SpaceWait,
  spaceWaits,
  usableAs,
} from "../../src/bacula/space-needed.ts";
import { noteSpaceWaits } from "../../src/bacula/space-wanted.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import {
  type KnownMagazine,
  writeKnownMagazines,
} from "../../src/changer/known-magazines.ts";
import { validateConfig } from "../../src/config/load.ts";
import { nullLog } from "../../src/log.ts";
import { emptyRegistry, writeRegistry } from "../../src/state/registry.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-space-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir = "";
let work = "";
let n = 0;

const fixture = (name: string) =>
  readFileSync(join(import.meta.dir, "fixtures", name), "utf8");
const uuid = (m: number) => `00000000-0000-4000-8000-00000000000${m}`;
const SEEN = "2026-12-01T08:00:00.000Z";
const MiB = 1024 * 1024;

function context(pool: string | null = "P"): ChangerContext {
  const config = validateConfig(
    {
      name: "s",
      work_dir: work,
      log_level: "off",
      magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
      bacula: {
        bconsole: join(dir, "bconsole"),
        config: "/etc/bacula/test-bconsole.conf",
        timeout: 5,
        ...(pool ? { pool } : {}),
      },
    },
    "/etc/magchanger/s.toml",
  );
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

/** Magazine 1 "Monday" attached in bay 1, 2 "Tuesday" and 3 "Wednesday" in the drawer. */
function changer(volumes: Record<number, number>): void {
  const registry = emptyRegistry();
  let slot = 0;
  for (const [magazine, count] of Object.entries(volumes)) {
    registry.magazines.set(uuid(Number(magazine)), Number(magazine));
    for (let v = 1; v <= count; v++) {
      const entry = {
        slot: ++slot,
        magazine: uuid(Number(magazine)),
        barcode: `s_000${magazine}_000${v}`,
      };
      registry.slots.set(entry.slot, entry);
      registry.byBarcode.set(entry.barcode, entry);
    }
  }
  writeRegistry(work, registry);
  const known = new Map<string, KnownMagazine>();
  const names = ["Monday", "Tuesday", "Wednesday"];
  for (const m of [1, 2, 3])
    known.set(uuid(m), {
      uuid: uuid(m),
      number: m,
      name: names[m - 1] as string,
      attached: m === 1,
      bay: 1,
      ...(m === 2
        ? {
            space: {
              availableBytes: 40 * MiB,
              totalBytes: 80 * MiB,
              volumeBytes: 5 * MiB,
              at: SEEN,
            },
          }
        : {}),
    });
  writeKnownMagazines(work, known);
}

const row = (
  name: string,
  status: string,
  over: Partial<CatalogVolume> = {},
): CatalogVolume => ({
  name,
  pool: "P",
  status,
  enabled: true,
  bytes: 10 * MiB,
  recycle: true,
  inChanger: false,
  expiresIn: 0,
  ...over,
});

const waitP = { drive: 0, pool: "P", jobs: [{ jobid: 9, name: "nightly" }] };
const events = () => {
  let names: string[] = [];
  try {
    names = readdirSync(join(work, "events"));
  } catch {}
  return names
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(work, "events", f), "utf8")));
};
const at = (minute: number) => new Date(Date.UTC(2026, 11, 2, 3, minute));

beforeEach(() => {
  dir = join(root, String(++n));
  work = join(dir, "work");
  mkdirSync(join(dir, "bay"), { recursive: true });
  mkdirSync(work);
});

describe("appendWaits", () => {
  test("a backup that filled the disk (real 9.6.7 status): its drive, pool and job", () => {
    expect(
      appendWaits(parseStorageStatus(fixture("sd-status-blocked-append.txt"))),
    ).toEqual([
      { drive: 1, pool: "mc-pool", jobs: [{ jobid: 4, name: "mc-backup" }] },
    ]);
  });

  test("a wait for a named volume is volume-needed's, not a wait for space", () => {
    expect(
      appendWaits(parseStorageStatus(fixture("sd-status-blocked-mount.txt"))),
    ).toEqual([]);
  });
});

describe("usableAs", () => {
  test("Append and Recycle are appendable, Purged purged, Full/Used recyclable only with Recycle = yes once retention ended", () => {
    expect(usableAs(row("v", "Append"))).toBe("appendable");
    expect(usableAs(row("v", "Recycle"))).toBe("appendable");
    expect(usableAs(row("v", "Purged", { recycle: false }))).toBe("purged");
    expect(usableAs(row("v", "Used"))).toBe("recyclable");
    expect(usableAs(row("v", "Full"))).toBe("recyclable");
    expect(usableAs(row("v", "Full", { expiresIn: 60 }))).toBeUndefined();
    expect(usableAs(row("v", "Full", { recycle: false }))).toBeUndefined();
    const noExpiry = row("v", "Full");
    delete noExpiry.expiresIn;
    expect(usableAs(noExpiry)).toBeUndefined();
    for (const status of ["Error", "Read-Only", "Archive", "Disabled"])
      expect(usableAs(row("v", status))).toBeUndefined();
    expect(usableAs(row("v", "Append", { enabled: false }))).toBeUndefined();
  });
});

describe("spaceWaits", () => {
  test("names the disks in the drawer holding volumes of the pool, with their counts, bytes to reuse and space: as measured, less what the catalog says was written since", () => {
    changer({ 1: 2, 2: 4, 3: 2 });
    const catalog = [
      row("s_0001_0001", "Full", { recycle: false, expiresIn: 99 }),
      row("s_0001_0002", "Full", { recycle: false, expiresIn: 99 }),
      row("s_0002_0001", "Purged", { bytes: 5 * MiB }),
      row("s_0002_0002", "Used", { bytes: 7 * MiB }),
      row("s_0002_0003", "Append", { pool: "Other" }),
      row("s_0002_0004", "Error"),
      // Wednesday's volumes are not in the catalog: new, labeled into [bacula] pool P by refresh
    ];
    const [wait] = spaceWaits(context(), [waitP], catalog);
    expect(wait).toEqual({
      ...waitP,
      attached: [],
      drawer: [
        {
          magazine: { number: 2, name: "Tuesday", uuid: uuid(2) },
          appendable: 0,
          recyclable: 1,
          purged: 1,
          unlabeled: 0,
          volumes: ["s_0002_0001", "s_0002_0002"],
          reusableBytes: 12 * MiB,
          // 40 MiB free when its volume files held 5 MiB; the catalog says they hold 32 MiB now.
          freeBytes: 13 * MiB,
          freeAt: SEEN,
        },
        {
          magazine: { number: 3, name: "Wednesday", uuid: uuid(3) },
          appendable: 0,
          recyclable: 0,
          purged: 0,
          unlabeled: 2,
          volumes: ["s_0003_0001", "s_0003_0002"],
          reusableBytes: 0,
        },
      ],
    });
  });

  test("new volumes count only for the pool refresh labels into, and not those holding data the catalog lacks", () => {
    changer({ 1: 1, 3: 2 });
    writeFileSync(
      join(work, "refresh.json"),
      JSON.stringify({
        version: 1,
        told: "x",
        barcodes: [],
        withData: ["s_0003_0001"],
      }),
    );
    expect(
      spaceWaits(context(), [waitP], [])[0]?.drawer.map((m) => [
        m.magazine.number,
        m.unlabeled,
        m.volumes,
      ]),
    ).toEqual([[3, 1, ["s_0003_0002"]]]);
    expect(spaceWaits(context("Q"), [waitP], [])[0]?.drawer).toEqual([]);
    expect(spaceWaits(context(null), [waitP], [])[0]?.drawer).toEqual([]);
  });

  test("an attached disk with such volumes is listed apart, with its bay", () => {
    changer({ 1: 1, 2: 1 });
    const [wait] = spaceWaits(
      context(),
      [waitP],
      [row("s_0001_0001", "Append"), row("s_0002_0001", "Append")],
    );
    expect(wait?.attached.map((m) => [m.magazine.name, m.bay])).toEqual([
      ["Monday", 1],
    ]);
    expect(wait?.drawer.map((m) => m.magazine.name)).toEqual(["Tuesday"]);
  });
});

describe("noteSpaceWaits", () => {
  const drawerWait = (over: Partial<SpaceWait> = {}): SpaceWait => ({
    ...waitP,
    drawer: [
      {
        magazine: { number: 2, uuid: uuid(2) },
        appendable: 1,
        recyclable: 0,
        purged: 0,
        unlabeled: 0,
        volumes: ["s_0002_0001"],
        reusableBytes: 0,
      },
    ],
    attached: [],
    ...over,
  });

  test("a wait is told once however often it is read, and again once it ended and another began", () => {
    const ctx = context();
    noteSpaceWaits(ctx, [drawerWait()], at(1));
    noteSpaceWaits(ctx, [drawerWait()], at(2));
    expect(events()).toEqual([
      {
        kind: "space-needed",
        pool: "P",
        jobs: waitP.jobs,
        magazines: drawerWait().drawer,
        at: at(1).toISOString(),
      },
    ]);
    noteSpaceWaits(ctx, [], at(3)); // the job went on
    noteSpaceWaits(ctx, [drawerWait()], at(4));
    expect(events().map((e) => e.at)).toEqual([
      at(1).toISOString(),
      at(4).toISOString(),
    ]);
    // Another job waiting on the same pool is another wait.
    noteSpaceWaits(
      ctx,
      [drawerWait(), drawerWait({ jobs: [{ jobid: 10, name: "other" }] })],
      at(5),
    );
    expect(events().map((e) => e.jobs[0].jobid)).toEqual([9, 9, 10]);
  });

  test("no disk anywhere holds one: told that a new disk is needed", () => {
    noteSpaceWaits(context(), [drawerWait({ drawer: [] })], at(1));
    expect(events()).toMatchObject([{ kind: "space-needed", magazines: [] }]);
  });

  test("an attached disk can serve it, or the catalog could not be read: not told (yet)", () => {
    const ctx = context();
    const attached = drawerWait().drawer.map((m) => ({ ...m, bay: 1 }));
    noteSpaceWaits(ctx, [drawerWait({ attached })], at(1));
    noteSpaceWaits(ctx, [drawerWait({ catalogError: "bconsole: ERR" })], at(2));
    expect(events()).toEqual([]);
    noteSpaceWaits(ctx, [drawerWait()], at(3));
    expect(events().map((e) => e.at)).toEqual([at(3).toISOString()]);
  });
});

describe("readSpaceWaits", () => {
  /** A Director that answers every call with the catalog fixture, logging what it was sent. */
  function fakeBconsole(exit = 0): void {
    const path = join(dir, "bconsole");
    writeFileSync(
      path,
      `#!/bin/sh\ncat >> ${dir}/stdin\ncat ${join(import.meta.dir, "fixtures", "list-volumes-after-swap.txt")}\nexit ${exit}\n`,
    );
    chmodSync(path, 0o755);
  }
  const sent = () => {
    try {
      return readFileSync(join(dir, "stdin"), "utf8");
    } catch {
      return "";
    }
  };

  test("asks the catalog (every pool) in one call, only when a drive waits for space", async () => {
    changer({ 1: 0 });
    fakeBconsole();
    const idle = parseStorageStatus(fixture("sd-status-idle.txt"));
    expect(await readSpaceWaits(context(), idle)).toEqual([]);
    expect(sent()).toBe("");
    const blocked = parseStorageStatus(fixture("sd-status-blocked-append.txt"));
    const waits = await readSpaceWaits(context(), blocked);
    expect(sent()).toBe("list volumes\nquit\n");
    expect(waits).toMatchObject([
      { pool: "mc-pool", drawer: [], attached: [] },
    ]);
    expect(waits[0]?.catalogError).toBeUndefined();
  });

  test("bconsole failing is the wait's catalogError, never thrown", async () => {
    changer({ 1: 0 });
    fakeBconsole(1);
    const blocked = parseStorageStatus(fixture("sd-status-blocked-append.txt"));
    const [wait] = await readSpaceWaits(context(), blocked);
    expect(wait?.catalogError).toStartWith("bconsole");
  });
});
