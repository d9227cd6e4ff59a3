// Where the rotation schedule is checked: every refresh, and the timer's `refresh --if-pending`
// with nothing pending (no bay scanned, no lock), and also after a refresh that failed (Bacula
// down for days must not hide that the same disk stayed in). It only tells: refresh's own work
// and output are as without [rotation].
import { afterAll, beforeEach, expect, test } from "bun:test";
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
import { refreshAndReport } from "../../src/bacula/refresh-report.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import {
  type KnownMagazine,
  writeKnownMagazines,
} from "../../src/changer/known-magazines.ts";
import { validateConfig } from "../../src/config/load.ts";
import { nullLog } from "../../src/log.ts";
import { acquireLock } from "../../src/state/lock.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-refresh-rotation-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir = "";
let n = 0;
const uuid = "00000000-0000-4000-8000-000000000001";
const DAY = 24 * 60 * 60 * 1000;

function context(): ChangerContext {
  const bconsole = join(dir, "bconsole");
  writeFileSync(bconsole, "#!/bin/sh\ncat > /dev/null\n");
  chmodSync(bconsole, 0o755);
  const config = validateConfig(
    {
      name: "r",
      work_dir: join(dir, "work"),
      log_level: "off",
      magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
      bacula: { bconsole, config: "/etc/bacula/x.conf", timeout: 5 },
      lock_timeout: 0.2,
      rotation: { max_days_attached: 7 },
    },
    "/etc/magchanger/r.toml",
  );
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

const kinds = () =>
  readdirSync(join(dir, "work", "events"))
    .filter((f) => /^\d{15}-\d+-\d+\.json$/.test(f))
    .map(
      (f) =>
        JSON.parse(readFileSync(join(dir, "work", "events", f), "utf8")).kind,
    );

beforeEach(() => {
  dir = join(root, String(++n));
  mkdirSync(join(dir, "bay"), { recursive: true });
  mkdirSync(join(dir, "work"));
  const monday: KnownMagazine = {
    uuid,
    number: 1,
    name: "Monday",
    attached: true,
    bay: 1,
    attachedAt: new Date(Date.now() - 10 * DAY).toISOString(),
  };
  writeKnownMagazines(join(dir, "work"), new Map([[uuid, monday]]));
});

test("the timer's --if-pending with nothing pending tells a disk attached too long, holding no lock, its output unchanged", async () => {
  const lock = acquireLock(join(dir, "work"), 1, "r");
  try {
    for (let i = 0; i < 2; i++)
      expect(
        await refreshAndReport(context(), { force: false, ifPending: true }),
      ).toBe("nothing to do: no Bacula update is pending\n");
  } finally {
    lock.release();
  }
  expect(kinds()).toEqual(["magazine-attached-too-long"]);
});

test("a refresh that failed still checks the schedule", async () => {
  // A pending update makes --if-pending scan under the changer lock, which another holds.
  writeFileSync(
    join(dir, "work", "refresh.json"),
    JSON.stringify({
      version: 1,
      told: "",
      barcodes: [],
      pending: { digest: "x", retired: [], since: new Date().toISOString() },
    }),
  );
  const lock = acquireLock(join(dir, "work"), 1, "r");
  try {
    await expect(
      refreshAndReport(context(), { force: false, ifPending: true }),
    ).rejects.toThrow(/lock/);
  } finally {
    lock.release();
  }
  expect(kinds().sort()).toEqual([
    "magazine-attached-too-long",
    "refresh-failed",
  ]);
});
