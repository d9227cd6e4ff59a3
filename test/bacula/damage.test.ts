// Which volumes refresh stops trusting: a disk pulled while the storage daemon used one of its
// volumes (seen on a real kernel: the SD wrote on into the dead filesystem's page cache and the
// job ended "Backup OK"), and a volume whose file is shorter than the catalog's count.
import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { CatalogVolume } from "../../src/bacula/catalog.ts";
import {
  actOnDamage,
  pulledInUse,
  readDamaged,
  shortVolumes,
  type VolumePlace,
} from "../../src/bacula/damage.ts";
import {
  type DriveStatus,
  parseStorageStatus,
} from "../../src/bacula/sd-status.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import { validateConfig } from "../../src/config/load.ts";
import { pendingEventIds } from "../../src/events/queue.ts";
import { describeVolumeDamage } from "../../src/events/types.ts";
import { nullLog } from "../../src/log.ts";
import { realSystem } from "../../src/system/system.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("damage");
afterAll(() => removeTempDir(dir));
const AT = "2026-12-07T19:04:40.000Z";
const monday = { number: 1, name: "Monday", uuid: "u-1" };
const tuesday = { number: 2, name: "Tuesday", uuid: "u-2" };

function places(files: Record<string, string | undefined>) {
  const map = new Map<string, VolumePlace>();
  for (const [volume, file] of Object.entries(files))
    map.set(volume, {
      magazine: volume.includes("_0001_") ? monday : tuesday,
      ...(file ? { file } : {}),
    });
  return map;
}

const drive = (d: Partial<DriveStatus>): DriveStatus => ({
  drive: 0,
  device: "usbchanger1-drive-0",
  state: "idle",
  jobs: [],
  ...d,
});

test("a volume the SD writes whose disk is gone is pulled in use, with its jobs", () => {
  const found = pulledInUse(
    [
      drive({
        state: "writing",
        volume: "c_0001_0004",
        jobs: [{ jobid: 7, name: "fault-big" }],
      }),
      drive({ drive: 1, state: "mounted", volume: "c_0002_0001" }),
    ],
    places({ c_0001_0004: undefined, c_0002_0001: undefined }),
    AT,
  );
  expect(found).toEqual([
    {
      volume: "c_0001_0004",
      magazine: monday,
      cause: "pulled-in-use",
      jobs: [{ jobid: 7, name: "fault-big" }],
      at: AT,
    },
  ]);
});

test("a job BLOCKED waiting for the volume of a disk in the drawer does not use it: nothing is damaged", () => {
  // Real 9.6.7 output: a restore waits for mccap_0002_0006 (its disk in the drawer); the SD lists
  // it under Running Jobs with that Volume, and the device is not open.
  const status = parseStorageStatus(
    readFileSync(
      join(import.meta.dir, "fixtures", "sd-status-blocked-mount.txt"),
      "utf8",
    ),
  );
  expect(status[0]).toMatchObject({
    state: "blocked-mount",
    volume: "mccap_0002_0006",
    wantedVolume: "mccap_0002_0006",
  });
  expect(
    pulledInUse(status, places({ mccap_0002_0006: undefined }), AT),
  ).toEqual([]);
  // A backup that wrote a volume of the pulled disk and now waits for another one still did.
  expect(
    pulledInUse(
      [
        drive({
          state: "blocked-mount",
          volume: "c_0001_0004",
          wantedVolume: "c_0002_0001",
          jobs: [{ jobid: 7, name: "fault-big" }],
        }),
      ],
      places({ c_0001_0004: undefined, c_0002_0001: undefined }),
      AT,
    ).map((d) => d.volume),
  ).toEqual(["c_0001_0004"]);
});

test("a volume in use on an attached disk, or of no magazine of ours, is not", () => {
  const file = join(dir, "attached");
  writeFileSync(file, "x");
  expect(
    pulledInUse(
      [
        drive({ state: "writing", volume: "c_0001_0001" }),
        drive({ drive: 1, state: "reading", volume: "other_0001" }),
      ],
      places({ c_0001_0001: file }),
      AT,
    ),
  ).toEqual([]);
});

test("an appendable or full volume whose file is shorter than the catalog's count is short; purged or shorter-by-design ones are not", () => {
  const short = join(dir, "short");
  writeFileSync(short, "");
  truncateSync(short, 243);
  const whole = join(dir, "whole");
  writeFileSync(whole, "");
  truncateSync(whole, 5000);
  const catalog: CatalogVolume[] = [
    vol("c_0001_0004", "Full", 112_960_755),
    vol("c_0001_0003", "Append", 5000),
    vol("c_0001_0002", "Purged", 112_960_755),
    vol("c_0002_0001", "Append", 9999),
  ];
  expect(
    shortVolumes(
      catalog,
      places({
        c_0001_0004: short,
        c_0001_0003: whole,
        c_0001_0002: short,
        c_0002_0001: undefined,
      }),
      AT,
    ),
  ).toEqual([
    {
      volume: "c_0001_0004",
      magazine: monday,
      cause: "short",
      jobs: [],
      fileBytes: 243,
      catalogBytes: 112_960_755,
      at: AT,
    },
  ]);
});

test("a recorded volume the catalog no longer holds as Error leaves the record, emptying it", async () => {
  const workDir = join(dir, "emptied");
  mkdirSync(workDir);
  const config = validateConfig(
    { name: "c", work_dir: workDir, magazine: [{ path: join(dir, "bay") }] },
    "test.toml",
  );
  const ctx: ChangerContext = {
    config,
    log: nullLog,
    sys: realSystem(config.tools),
  };
  const damaged = {
    volume: "c_0001_0004",
    magazine: monday,
    cause: "short",
    jobs: [],
    at: AT,
  };
  writeFileSync(
    join(workDir, "damaged.json"),
    `${JSON.stringify([damaged])}\n`,
  );
  // The operator deleted and relabeled it: Append again, nothing found this time.
  expect(await actOnDamage(ctx, [], [vol("c_0001_0004", "Append", 0)])).toEqual(
    [],
  );
  expect(readFileSync(join(workDir, "damaged.json"), "utf8")).toBe("[]\n");
});

test("the line for the operator names the volume, the disk, the jobs and the fix", () => {
  expect(
    describeVolumeDamage({
      volume: "c_0001_0004",
      magazine: monday,
      cause: "pulled-in-use",
      jobs: [{ jobid: 7, name: "fault-big" }],
    }),
  ).toBe(
    'volume c_0001_0004 on magazine 1 "Monday" cannot be trusted: its disk was pulled while fault-big (JobId 7) used it, which was cancelled: run it again; it is marked Error in Bacula (to reuse it, erasing it: delete volume=c_0001_0004 yes in bconsole, truncate -s 0 its file, magchanger refresh)',
  );
});

function vol(name: string, status: string, bytes: number): CatalogVolume {
  return {
    name,
    pool: "p",
    status,
    enabled: true,
    bytes,
    recycle: true,
    inChanger: true,
  };
}

// The job may end between refresh reading the SD and its cancel: bconsole then answers
// `3904 Job N not found.`, which must not stop the volume being marked and recorded.
test("a cancel of a job that already ended still marks, records and tells the volume", async () => {
  const work = join(dir, "act-work");
  mkdirSync(work, { recursive: true });
  const bconsole = join(dir, "bconsole-gone-job");
  writeFileSync(
    bconsole,
    `#!/bin/bash\nin=$(cat); printf '%s\\n' "$in" >> '${dir}/act-stdin'\nif grep -q '^cancel' <<<"$in"; then echo '3904 Job 7 not found.'; fi\n`,
  );
  chmodSync(bconsole, 0o755);
  const config = validateConfig(
    {
      name: "c",
      work_dir: work,
      log_level: "off",
      magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
      bacula: { bconsole, config: "/etc/bacula/x.conf", timeout: 5 },
    },
    "test.toml",
  );
  const ctx = { config, log: nullLog, sys: realSystem(config.tools) };
  const damage = {
    volume: "c_0001_0004",
    magazine: monday,
    cause: "pulled-in-use" as const,
    jobs: [{ jobid: 7, name: "fault-big" }],
    at: AT,
  };
  const lines = await actOnDamage(ctx, [damage], []);
  expect(lines).toEqual([`WARN: ${describeVolumeDamage(damage)}`]);
  expect(readFileSync(join(dir, "act-stdin"), "utf8")).toContain(
    'update volume="c_0001_0004" volstatus=Error',
  );
  expect([...readDamaged(work).keys()]).toEqual(["c_0001_0004"]);
  expect(pendingEventIds(work)).toHaveLength(1);
});

test("a volume that lost only its label is told so, with the way to label it again", () => {
  expect(
    describeVolumeDamage({
      volume: "c_0001_0011",
      magazine: monday,
      cause: "short",
      jobs: [],
      fileBytes: 0,
      catalogBytes: 242,
    }),
  ).toBe(
    'volume c_0001_0011 on magazine 1 "Monday" lost its label (its file holds 0 of the 242 bytes Bacula\'s catalog counts; the disk was pulled or the power cut right after it was labeled, and no backup was on it): it is marked Error in Bacula; to use it again: delete volume=c_0001_0011 yes in bconsole, truncate -s 0 its file, magchanger refresh (which labels it)',
  );
});
