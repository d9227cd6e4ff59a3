// The catalogue of known magazines (WORK_DIR/magazines.json) and the events it queues: an arrival
// or a removal once each, in order, nothing written when nothing changed, a damaged file read as
// empty; and the volume-needed record of a wait, told once per wait (bacula/waiting.ts).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { noteWaitingVolumes, waitedVolumes } from "../../src/bacula/waiting.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import {
  knownMagazinesPath,
  noteMagazines,
  readKnownMagazines,
} from "../../src/changer/known-magazines.ts";
import { spaceMeter } from "../../src/changer/measure-space.ts";
import { validateConfig } from "../../src/config/load.ts";
import type { MagazineStatus } from "../../src/disk/discover.ts";
import type { MagazineIdentity } from "../../src/disk/identity.ts";
import { nameProblem } from "../../src/disk/magazine-name.ts";
import { enqueueEvent } from "../../src/events/queue.ts";
import { nullLog } from "../../src/log.ts";
import { emptyRegistry, writeRegistry } from "../../src/state/registry.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-known-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let work = "";
let n = 0;
let ctx: ChangerContext;

const identity = (number: number, name?: string): MagazineIdentity => ({
  uuid: `00000000-0000-4000-8000-00000000000${number}`,
  changer: "k",
  number,
  lastVolume: 1,
  created: "2026-01-01T00:00:00.000Z",
  ...(name ? { name, label: `k-${name.toLowerCase()}` } : {}),
});
const A = identity(1, "Monday");
const B = identity(2, "Tuesday");
const registry = () => {
  const r = emptyRegistry();
  r.magazines.set(A.uuid, 1);
  r.magazines.set(B.uuid, 2);
  r.slots.set(1, { slot: 1, magazine: A.uuid, barcode: "k_0001_0001" });
  r.byBarcode.set("k_0001_0001", r.slots.get(1) as never);
  return r;
};
const inBay = (id?: MagazineIdentity): MagazineStatus =>
  ({
    index: 1,
    where: "/bay",
    mountPoint: "/bay",
    present: id !== undefined,
    volumes: [],
    ignored: [],
    ...(id ? { identity: id } : {}),
  }) as unknown as MagazineStatus;
const view = (id?: MagazineIdentity) => ({
  registry: registry(),
  magazines: [inBay(id)],
});
const events = () =>
  readdirSync(join(work, "events"))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(work, "events", f), "utf8")));
const at = (s: number) => new Date(Date.UTC(2026, 0, 2, 0, 0, s));

beforeEach(() => {
  work = join(root, String(++n));
  mkdirSync(work);
  const config = validateConfig(
    {
      name: "k",
      work_dir: work,
      log_level: "off",
      magazine: [{ path: "/bay" }],
    },
    "k.toml",
  );
  ctx = { config, log: nullLog, sys: realSystem(config.tools) };
});

describe("noteMagazines", () => {
  test("a swap queues removed then attached, each once; nothing changed writes nothing", () => {
    expect(
      noteMagazines(ctx, view(A), at(1)).attached.map((m) => m.name),
    ).toEqual(["Monday"]);
    const written = statSync(knownMagazinesPath(work)).mtimeMs;
    expect(noteMagazines(ctx, view(A), at(2))).toEqual({
      attached: [],
      removed: [],
    });
    expect(statSync(knownMagazinesPath(work)).mtimeMs).toBe(written);
    noteMagazines(ctx, view(B), at(3));
    noteMagazines(ctx, view(), at(4));
    expect(events().map((e) => [e.kind, e.magazine.name, e.bay, e.at])).toEqual(
      [
        ["magazine-attached", "Monday", 1, at(1).toISOString()],
        ["magazine-removed", "Monday", 1, at(3).toISOString()],
        ["magazine-attached", "Tuesday", 1, at(3).toISOString()],
        ["magazine-removed", "Tuesday", 1, at(4).toISOString()],
      ],
    );
    const known = readKnownMagazines(work);
    expect(known.get(A.uuid)).toMatchObject({
      name: "Monday",
      label: "k-monday",
      attached: false,
      attachedAt: at(1).toISOString(),
      removedAt: at(3).toISOString(),
    });
  });

  test("the space of an attached magazine is recorded, so it is known while the disk is in the drawer", () => {
    // Its volume files' bytes go with it (a link is no volume file: not followed, not counted).
    writeFileSync(join(work, "k_0001_0001"), Buffer.alloc(1000));
    symlinkSync("/etc/passwd", join(work, "k_0001_0002"));
    const mounted = {
      ...inBay(A),
      mountPoint: work,
      volumes: ["k_0001_0001", "k_0001_0002", "k_0001_0003"],
    } as MagazineStatus;
    noteMagazines(
      ctx,
      { registry: registry(), magazines: [mounted] },
      at(1),
      spaceMeter(ctx.sys, at(1)),
    );
    const space = readKnownMagazines(work).get(A.uuid)?.space;
    const fs = statfsSync(work);
    expect(space).toEqual({
      availableBytes: expect.any(Number),
      totalBytes: expect.any(Number),
      volumeBytes: 1000,
      at: at(1).toISOString(),
    });
    expect(space?.totalBytes).toBeLessThanOrEqual(
      Number(fs.blocks) * Number(fs.bsize),
    );
    expect(space?.availableBytes).toBeGreaterThan(0);
    // Once per stay: later refreshes of the same stay neither measure nor write (the catalog
    // says what Bacula wrote since), whatever the disk's free space does meanwhile.
    const written = statSync(knownMagazinesPath(work)).mtimeMs;
    writeFileSync(join(work, "k_0001_0001"), Buffer.alloc(64 * 1024));
    let measured = 0;
    noteMagazines(
      ctx,
      { registry: registry(), magazines: [mounted] },
      at(2),
      (status) => {
        measured += 1;
        return spaceMeter(ctx.sys, at(2))(status);
      },
    );
    expect(measured).toBe(0);
    expect(statSync(knownMagazinesPath(work)).mtimeMs).toBe(written);
    noteMagazines(ctx, view(), at(2)); // to the drawer: the last figures stay
    expect(readKnownMagazines(work).get(A.uuid)?.space?.at).toBe(
      at(1).toISOString(),
    );
    // A planted figure that is no byte count is dropped, the rest of the entry kept.
    writeFileSync(
      knownMagazinesPath(work),
      JSON.stringify({
        magazines: [
          {
            uuid: A.uuid,
            number: 1,
            attached: false,
            space: { availableBytes: -1, totalBytes: 5, at: "x" },
          },
        ],
      }),
    );
    expect(readKnownMagazines(work).get(A.uuid)).toEqual({
      uuid: A.uuid,
      number: 1,
      attached: false,
    });
  });

  test("a damaged catalogue reads as empty and is rewritten whole; hostile names are dropped", () => {
    writeFileSync(knownMagazinesPath(work), "{not json");
    expect(readKnownMagazines(work).size).toBe(0);
    noteMagazines(ctx, view(A), at(1));
    expect(readKnownMagazines(work).get(A.uuid)?.name).toBe("Monday");
    writeFileSync(
      knownMagazinesPath(work),
      JSON.stringify({
        magazines: [
          { uuid: A.uuid, number: 1, name: "\u001b[31mX", attached: true },
        ],
      }),
    );
    expect(readKnownMagazines(work).get(A.uuid)?.name).toBeUndefined();
  });
});

describe("magazine names", () => {
  test("what a name may be", () => {
    expect(nameProblem("Thursday")).toBeUndefined();
    expect(nameProblem("Disk 2_b.c-d")).toBeUndefined();
    for (const bad of [
      "",
      "7",
      "x".repeat(33),
      "a/b",
      'a"b',
      "a\nb",
      " a",
      "a ",
      "é",
    ])
      expect(nameProblem(bad)).toBeString();
  });
});

describe("noteWaitingVolumes", () => {
  const blocked = [
    {
      drive: 0,
      device: "d0",
      state: "blocked-mount" as const,
      wantedVolume: "k_0001_0001",
      jobs: [{ jobid: 7, name: "restore" }],
    },
  ];
  const needed = () => events().filter((e) => e.kind === "volume-needed");

  test("a wait for a disk in the drawer is told once however often it is read, and again after it ended", () => {
    writeRegistry(work, registry());
    noteMagazines(ctx, view(B), at(1));
    const waits = waitedVolumes(ctx, blocked);
    expect(waits).toMatchObject([
      {
        volume: "k_0001_0001",
        slot: 1,
        attached: false,
        magazine: { number: 1, uuid: A.uuid },
      },
    ]);
    noteWaitingVolumes(ctx, waits, at(2));
    noteWaitingVolumes(ctx, waitedVolumes(ctx, blocked), at(3));
    expect(needed()).toHaveLength(1);
    noteWaitingVolumes(ctx, [], at(4)); // the wait ended
    noteWaitingVolumes(ctx, waitedVolumes(ctx, blocked), at(5));
    expect(needed().map((e) => e.at)).toEqual([
      at(2).toISOString(),
      at(5).toISOString(),
    ]);
  });

  test("the SD's block after a failed load (which queued the event) is the same wait: not told twice", () => {
    writeRegistry(work, registry());
    enqueueEvent(work, {
      kind: "volume-needed",
      volume: "k_0001_0001",
      slot: 1,
      magazine: { number: 1, uuid: A.uuid },
      at: new Date().toISOString(),
    });
    noteWaitingVolumes(ctx, waitedVolumes(ctx, blocked));
    expect(needed()).toHaveLength(1);
  });

  test("a wait for a disk that is in a bay is not told (refresh resumes it)", () => {
    writeRegistry(work, registry());
    noteMagazines(ctx, view(A), at(1));
    noteWaitingVolumes(ctx, waitedVolumes(ctx, blocked), at(2));
    expect(needed()).toEqual([]);
  });

  // Seen on a real kernel: the SD met ENOSPC on a loaded volume of a disk whose ext4 keeps its
  // last blocks for root, and waited for a mount of that volume for ever, untold.
  test("a wait on a disk in a bay with no room for the run-as user is told once, with the fix", () => {
    writeRegistry(work, registry());
    noteMagazines(ctx, view(A), at(1));
    const noRoom =
      "its filesystem has 0 B left for bacula: the last 11.9 MiB are reserved for root, which bacula cannot use; run `tune2fs -m 0 /dev/mapper/bacula` (or free space, or attach another magazine)";
    const waits = waitedVolumes(ctx, blocked).map((w) => ({ ...w, noRoom }));
    expect(waits[0]).toMatchObject({ attached: true });
    noteWaitingVolumes(ctx, waits, at(2));
    noteWaitingVolumes(ctx, waits, at(3));
    const full = events().filter((e) => e.kind === "magazine-full");
    expect(full).toMatchObject([
      {
        kind: "magazine-full",
        volume: "k_0001_0001",
        magazine: { number: 1, uuid: A.uuid },
        jobs: [{ jobid: 7, name: "restore" }],
        detail: noRoom,
      },
    ]);
    expect(needed()).toEqual([]);
  });
});
