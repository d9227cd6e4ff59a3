// The rotation schedule (issue 21) with a controllable clock: how long each disk has been
// attached or away (rotationFacts, from magazines.json as refresh records arrivals and removals),
// and the events: raised once when [rotation]'s limit is crossed, re-armed when that clears (the
// disk leaves or comes back, the limit is raised), one kind for a disk attached too long and one
// for a disk not seen too long. Nothing else happens: they only tell.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangerContext } from "../../src/changer/context.ts";
import {
  type KnownMagazine,
  noteMagazines,
} from "../../src/changer/known-magazines.ts";
import {
  describeRotation,
  readRotationFacts,
  rotationFacts,
} from "../../src/changer/rotation.ts";
import { noteRotation } from "../../src/changer/rotation-events.ts";
import { validateConfig } from "../../src/config/load.ts";
import type { MagazineStatus } from "../../src/disk/discover.ts";
import type { MagazineIdentity } from "../../src/disk/identity.ts";
import { nullLog } from "../../src/log.ts";
import { emptyRegistry } from "../../src/state/registry.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-rotation-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let work = "";
let n = 0;

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
/** The clock: day d (fractional) after T0. */
const day = (d: number) => new Date(T0 + d * DAY);

const identity = (number: number, name: string): MagazineIdentity => ({
  uuid: `00000000-0000-4000-8000-00000000000${number}`,
  changer: "r",
  number,
  lastVolume: 1,
  created: "2026-01-01T00:00:00.000Z",
  name,
});
const MON = identity(1, "Monday");
const TUE = identity(2, "Tuesday");

function context(rotation?: Record<string, number>): ChangerContext {
  const config = validateConfig(
    {
      name: "r",
      work_dir: work,
      log_level: "off",
      magazine: [{ path: "/bay" }],
      ...(rotation ? { rotation } : {}),
    },
    "r.toml",
  );
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

/** What refresh's scan records: `id` in bay 1 (or nothing) at time `when`. */
function refreshSees(id: MagazineIdentity | undefined, when: Date): void {
  const registry = emptyRegistry();
  registry.magazines.set(MON.uuid, 1);
  registry.magazines.set(TUE.uuid, 2);
  const status = {
    index: 1,
    where: "/bay",
    mountPoint: "/bay",
    present: id !== undefined,
    volumes: [],
    ignored: [],
    ...(id ? { identity: id } : {}),
  } as unknown as MagazineStatus;
  noteMagazines(context(), { registry, magazines: [status] }, when);
}

const rotationEvents = () => {
  let names: string[] = [];
  try {
    names = readdirSync(join(work, "events"));
  } catch {}
  return names
    .filter((f) => /^\d{15}-\d+-\d+\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(work, "events", f), "utf8")))
    .filter((e) => e.kind.endsWith("-too-long"))
    .map((e) => [e.kind, e.magazine.name, e.days, e.at]);
};

beforeEach(() => {
  work = join(root, String(++n));
  mkdirSync(work);
});

describe("rotationFacts", () => {
  const known = (over: Partial<KnownMagazine>): KnownMagazine => ({
    uuid: MON.uuid,
    number: 1,
    name: "Monday",
    attached: true,
    bay: 1,
    ...over,
  });

  test("an attached disk: whole days since it arrived, against max_days_attached", () => {
    const m = known({ attachedAt: day(0).toISOString() });
    const limits = { max_days_attached: 7, max_days_absent: 30 };
    expect(rotationFacts([m], limits, day(6.99))).toEqual([
      {
        magazine: { number: 1, name: "Monday", uuid: MON.uuid },
        attached: true,
        bay: 1,
        since: day(0).toISOString(),
        seconds: Math.floor(6.99 * 86_400),
        days: 6,
        limitDays: 7,
        overdue: false,
      },
    ]);
    expect(rotationFacts([m], limits, day(7))[0]).toMatchObject({
      days: 7,
      overdue: true,
    });
  });

  test("a disk in the drawer: days since it was noticed gone, against max_days_absent", () => {
    const m = known({
      attached: false,
      attachedAt: day(-10).toISOString(),
      removedAt: day(0).toISOString(),
    });
    expect(
      rotationFacts([m], { max_days_attached: 1, max_days_absent: 3 }, day(3)),
    ).toMatchObject([
      { attached: false, days: 3, limitDays: 3, overdue: true },
    ]);
  });

  test("without [rotation] the days are still known, and nothing is overdue", () => {
    const m = known({ attachedAt: day(0).toISOString() });
    const [fact] = rotationFacts([m], undefined, day(400));
    expect(fact?.days).toBe(400);
    expect(fact?.overdue).toBe(false);
    expect(fact?.limitDays).toBeUndefined();
  });

  test("a disk never seen arriving or leaving has no days; a time ahead of the clock counts as 0", () => {
    expect(
      rotationFacts([known({})], { max_days_attached: 1 }, day(5)),
    ).toEqual([
      {
        magazine: { number: 1, name: "Monday", uuid: MON.uuid },
        attached: true,
        bay: 1,
        limitDays: 1,
        overdue: false,
      },
    ]);
    expect(
      rotationFacts(
        [known({ attachedAt: day(2).toISOString() })],
        undefined,
        day(0),
      )[0],
    ).toMatchObject({ seconds: 0, days: 0 });
  });

  test("readRotationFacts reads magazines.json as refresh wrote it, by magazine number", () => {
    refreshSees(TUE, day(0));
    refreshSees(MON, day(1));
    expect(
      readRotationFacts(context().config, day(3.5)).map((f) => [
        f.magazine.name,
        f.attached,
        f.days,
      ]),
    ).toEqual([
      ["Monday", true, 2],
      ["Tuesday", false, 2],
    ]);
  });

  test("what status and magazine list add after a date", () => {
    const fact = (over: object) =>
      ({
        magazine: { number: 1, uuid: "u" },
        attached: true,
        overdue: false,
        ...over,
      }) as never;
    expect(describeRotation(fact({}))).toBe("");
    expect(describeRotation(fact({ days: 0 }))).toBe(" (less than a day)");
    expect(describeRotation(fact({ days: 1 }))).toBe(" (1 day)");
    expect(
      describeRotation(fact({ days: 9, overdue: true, limitDays: 8 })),
    ).toBe(
      " (9 days; [rotation] max_days_attached = 8: swap in another disk, the offsite copy is getting old)",
    );
    expect(
      describeRotation(
        fact({ attached: false, days: 30, overdue: true, limitDays: 30 }),
      ),
    ).toBe(
      " (30 days; [rotation] max_days_absent = 30: is it lost or forgotten?)",
    );
  });
});

describe("noteRotation", () => {
  const limits = { max_days_attached: 7, max_days_absent: 20 };

  test("a disk attached past max_days_attached is told once, however often the timer runs", () => {
    refreshSees(MON, day(0));
    for (const d of [1, 6.9])
      expect(noteRotation(context(limits), day(d))).toEqual([]);
    for (const d of [7, 7.01, 8, 30]) noteRotation(context(limits), day(d));
    expect(rotationEvents()).toEqual([
      ["magazine-attached-too-long", "Monday", 7, day(7).toISOString()],
    ]);
  });

  test("re-armed when cleared: the disk goes out and comes back, its new stay is told again once crossed", () => {
    refreshSees(MON, day(0));
    noteRotation(context(limits), day(8));
    refreshSees(undefined, day(9)); // swapped out
    noteRotation(context(limits), day(10));
    refreshSees(MON, day(11)); // back in: a new stay
    noteRotation(context(limits), day(17.9));
    noteRotation(context(limits), day(18));
    noteRotation(context(limits), day(19));
    expect(rotationEvents()).toEqual([
      ["magazine-attached-too-long", "Monday", 8, day(8).toISOString()],
      ["magazine-attached-too-long", "Monday", 7, day(18).toISOString()],
    ]);
  });

  test("a swap between two runs (out and back in, never seen below the limit) is a new stay all the same", () => {
    refreshSees(MON, day(0));
    noteRotation(context(limits), day(8));
    refreshSees(TUE, day(8.5));
    refreshSees(MON, day(8.6)); // a new stay: crosses 7 days on day 15.6
    noteRotation(context(limits), day(16));
    noteRotation(context(limits), day(16.5));
    expect(rotationEvents().map((e) => e[3])).toEqual([
      day(8).toISOString(),
      day(16).toISOString(),
    ]);
  });

  test("a disk not seen past max_days_absent is told once, and re-armed when it comes back", () => {
    refreshSees(TUE, day(0));
    refreshSees(MON, day(1)); // Tuesday to the drawer on day 1
    noteRotation(context(limits), day(20.9));
    noteRotation(context(limits), day(21));
    noteRotation(context(limits), day(22));
    refreshSees(TUE, day(23)); // back: cleared
    noteRotation(context(limits), day(24));
    refreshSees(MON, day(25)); // Tuesday away again from day 25
    noteRotation(context(limits), day(44.9));
    noteRotation(context(limits), day(45));
    expect(
      rotationEvents().filter((e) => e[0] === "magazine-absent-too-long"),
    ).toEqual([
      ["magazine-absent-too-long", "Tuesday", 20, day(21).toISOString()],
      ["magazine-absent-too-long", "Tuesday", 20, day(45).toISOString()],
    ]);
  });

  test("raising the limit clears it; crossing the new limit tells again; without [rotation] nothing is told", () => {
    refreshSees(MON, day(0));
    noteRotation(context(limits), day(8));
    noteRotation(context({ max_days_attached: 10 }), day(9));
    noteRotation(context({ max_days_attached: 10 }), day(10));
    noteRotation(context(), day(100));
    noteRotation(context({ max_days_attached: 10 }), day(101));
    expect(rotationEvents().map((e) => e[3])).toEqual([
      day(8).toISOString(),
      day(10).toISOString(),
      day(101).toISOString(),
    ]);
  });

  test("the event carries the disk, its bay, since when, the days and the limit", () => {
    refreshSees(MON, day(0));
    const [event] = noteRotation(context(limits), day(9.5));
    expect(event).toEqual({
      kind: "magazine-attached-too-long",
      magazine: { number: 1, name: "Monday", uuid: MON.uuid },
      bay: 1,
      since: day(0).toISOString(),
      days: 9,
      limitDays: 7,
      at: day(9.5).toISOString(),
    });
  });

  test("a damaged record of what was told is read as nothing told (told again, never never); nothing throws", () => {
    refreshSees(MON, day(0));
    noteRotation(context(limits), day(8));
    writeFileSync(join(work, "events", "rotation.json"), "{not json");
    noteRotation(context(limits), day(9));
    expect(rotationEvents()).toHaveLength(2);
    noteRotation(context(limits), day(10));
    expect(rotationEvents()).toHaveLength(2);
  });
});
