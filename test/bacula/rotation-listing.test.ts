// `status` and `magazine list` show how long each disk has been attached or away (issue 21),
// with [rotation]'s limit when it is reached; from magazines.json and a clock, no disk touched.
import { afterAll, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  drawerReports,
  formatDrawer,
  listJson,
  withAttachTimes,
} from "../../src/bacula/drawer.ts";
import { formatReports, type MagazineReport } from "../../src/bacula/report.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import { writeKnownMagazines } from "../../src/changer/known-magazines.ts";
import { validateConfig } from "../../src/config/load.ts";
import { nullLog } from "../../src/log.ts";
import { emptyRegistry, writeRegistry } from "../../src/state/registry.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-rotation-listing-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let work = "";
let n = 0;
const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const day = (d: number) => new Date(T0 + d * DAY);
const MON = "00000000-0000-4000-8000-000000000001";
const TUE = "00000000-0000-4000-8000-000000000002";

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

const bay = (): MagazineReport => ({
  bay: 1,
  where: "/bay",
  present: true,
  magazine: 1,
  name: "Monday",
  uuid: MON,
  volumes: 0,
  warnings: [],
});

beforeEach(() => {
  work = join(root, String(++n));
  mkdirSync(work);
  const registry = emptyRegistry();
  registry.magazines.set(MON, 1);
  registry.magazines.set(TUE, 2);
  writeRegistry(work, registry);
  writeKnownMagazines(
    work,
    new Map([
      [
        MON,
        {
          uuid: MON,
          number: 1,
          name: "Monday",
          attached: true,
          bay: 1,
          attachedAt: day(0).toISOString(),
        },
      ],
      [
        TUE,
        {
          uuid: TUE,
          number: 2,
          name: "Tuesday",
          attached: false,
          bay: 1,
          attachedAt: day(-9).toISOString(),
          removedAt: day(-0.5).toISOString(),
        },
      ],
    ]),
  );
});

test("the days each disk has been attached or away, with no [rotation] set", () => {
  const ctx = context();
  const bays = withAttachTimes(ctx, [bay()], day(6.2));
  const drawer = drawerReports(ctx, bays, day(6.2));
  expect(formatReports(bays)).toContain(
    `\n  attached since ${day(0).toISOString()} (6 days)\n`,
  );
  expect(formatDrawer(drawer).split("\n")[1]).toBe(
    `  in the drawer since ${day(-0.5).toISOString()} (6 days)`,
  );
  expect(bays[0]?.rotation).toEqual({
    attached: true,
    since: day(0).toISOString(),
    seconds: Math.round(6.2 * 86_400),
    days: 6,
    overdue: false,
  });
  // --json: the drawer entries carry theirs too.
  expect(listJson(bays, drawer)[1]).toMatchObject({
    bay: null,
    rotation: { attached: false, days: 6, overdue: false },
  });
});

test("a limit reached says what it means; a fresh arrival is less than a day", () => {
  const ctx = context({ max_days_attached: 8, max_days_absent: 30 });
  expect(formatReports(withAttachTimes(ctx, [bay()], day(8)))).toContain(
    `  attached since ${day(0).toISOString()} (8 days; [rotation] max_days_attached = 8: swap in another disk, the offsite copy is getting old)`,
  );
  expect(
    formatDrawer(drawerReports(ctx, [bay()], day(29.5))).split("\n")[1],
  ).toBe(
    `  in the drawer since ${day(-0.5).toISOString()} (30 days; [rotation] max_days_absent = 30: is it lost or forgotten?)`,
  );
  expect(formatReports(withAttachTimes(ctx, [bay()], day(0.3)))).toContain(
    "(less than a day)\n",
  );
});
