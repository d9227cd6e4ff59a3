// What check and the metrics read (bacula/monitor.ts): the work dir's own record, the space of an
// attached disk only where measuring it mounts nothing, and the waits a real 9.6.7 `status
// storage` capture shows, through a fake bconsole; nothing is written.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorFacts } from "../../src/bacula/monitor.ts";
import { writeState } from "../../src/bacula/refresh-state.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import { initMagazine } from "../../src/changer/init.ts";
import {
  readKnownMagazines,
  writeKnownMagazines,
} from "../../src/changer/known-magazines.ts";
import { validateConfig } from "../../src/config/load.ts";
import { enqueueEvent } from "../../src/events/queue.ts";
import { nullLog } from "../../src/log.ts";
import type { MountEntry } from "../../src/system/mounts.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-monitor-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir = "";
let n = 0;

const fixture = (name: string) =>
  readFileSync(
    join(import.meta.dir, "fixtures", `sd-status-${name}.txt`),
    "utf8",
  );

/** A bconsole that records that it ran and answers `status storage` with dir/sd-status. */
function fakeBconsole(): string {
  const path = join(dir, "bconsole");
  writeFileSync(
    path,
    `#!/bin/bash
cat > ${dir}/bconsole.stdin
[ -e ${dir}/sd-sleep ] && exec sleep 30
[ -e ${dir}/sd-status ] || { echo "Failed to connect to Director"; exit 1; }
cat ${dir}/sd-status
`,
  );
  chmodSync(path, 0o755);
  return path;
}

function context(mounts?: MountEntry[]): ChangerContext {
  const config = validateConfig(
    {
      name: "c",
      work_dir: join(dir, "work"),
      log_level: "off",
      drives: 2,
      magazine: [
        { path: join(dir, "bays", "one"), allow_unmounted: true },
        { path: join(dir, "bays", "two"), allow_unmounted: true },
      ],
      bacula: { bconsole: fakeBconsole(), config: "/etc/bacula/t.conf" },
      notify: { command: ["/bin/true"] },
    },
    "test.toml",
  );
  const sys = realSystem(config.tools);
  return {
    config,
    log: nullLog,
    sys: mounts ? { ...sys, mounts: () => mounts } : sys,
  };
}

const NOW = new Date("2026-06-01T00:00:00.000Z");

beforeEach(async () => {
  dir = join(root, String(++n));
  mkdirSync(join(dir, "bays", "one"), { recursive: true });
  mkdirSync(join(dir, "bays", "two"), { recursive: true });
  const ctx = context();
  await initMagazine(ctx, 1, join(dir, "bays", "one"), {
    volumes: 3,
    force: false,
    name: "Monday",
  });
  await initMagazine(ctx, 2, join(dir, "bays", "two"), {
    volumes: 2,
    force: false,
    name: "Tuesday",
  });
  // Tuesday went to the drawer on May 25th; Monday arrived on May 29th.
  const known = readKnownMagazines(join(dir, "work"));
  for (const m of known.values()) {
    if (m.number === 1) m.attachedAt = "2026-05-29T00:00:00.000Z";
    else
      Object.assign(m, {
        attached: false,
        removedAt: "2026-05-25T00:00:00.000Z",
      });
  }
  writeKnownMagazines(join(dir, "work"), known);
});

const sdSays = (text: string) => writeFileSync(join(dir, "sd-status"), text);

/** The capture's volume names made this changer's: magazine 2's second volume, c_0002_0002. */
const blockedFor = (volume: string) =>
  fixture("blocked-mount").replaceAll("mccap_0002_0006", volume);

describe("monitorFacts", () => {
  test("the registry, magazines.json, refresh.json and the queue, read without writing", async () => {
    writeState(context(), {
      version: 1,
      told: "abc",
      barcodes: [],
      pending: { digest: "d", retired: [], since: "2026-05-31T23:00:00.000Z" },
    });
    enqueueEvent(join(dir, "work"), {
      kind: "refresh-failed",
      error: "x",
      at: "",
    });
    enqueueEvent(join(dir, "work"), {
      kind: "refresh-failed",
      error: "y",
      at: "",
    });
    sdSays(fixture("idle"));
    const work = join(dir, "work");
    const before = readdirSync(work, { recursive: true })
      .map(String)
      .sort()
      .map((f) => `${f} ${statSync(join(work, f)).mtimeMs}`);
    const f = await monitorFacts(context(), { askStorage: true, now: NOW });
    expect(f).toMatchObject({
      changer: "c",
      volumes: 5,
      told: true,
      refreshPendingSince: "2026-05-31T23:00:00.000Z",
      queuedEvents: 2,
      notify: true,
      storage: { waits: [] },
    });
    expect(Date.now() - (f.oldestQueuedAt as Date).getTime()).toBeLessThan(
      60_000,
    );
    expect(
      f.magazines.map((m) => [m.number, m.name, m.volumes, m.attached, m.bay]),
    ).toEqual([
      [1, "Monday", 3, true, 1],
      [2, "Tuesday", 2, false, 2],
    ]);
    const [monday, tuesday] = f.magazines;
    expect(monday?.space?.availableBytes).toBeGreaterThan(0);
    expect(monday?.space?.usableBytes).toBeGreaterThanOrEqual(
      monday?.space?.availableBytes ?? 0,
    );
    expect(tuesday?.space).toBeUndefined();
    const after = readdirSync(work, { recursive: true })
      .map(String)
      .sort()
      .map((f) => `${f} ${statSync(join(work, f)).mtimeMs}`);
    expect(after).toEqual(before);
  });

  test("a job waiting for a volume of a disk in the drawer, with its magazine", async () => {
    sdSays(blockedFor("c_0002_0002"));
    const f = await monitorFacts(context(), { askStorage: true, now: NOW });
    expect(f.storage).toEqual({
      waits: [
        {
          drive: 0,
          jobs: [{ jobid: 3, name: "mc-restore" }],
          volume: "c_0002_0002",
          attached: false,
          magazine: expect.objectContaining({ number: 2, name: "Tuesday" }),
        },
      ],
    });
  });

  test("a job waiting for any appendable volume: a wait without a volume", async () => {
    sdSays(fixture("blocked-append"));
    const f = await monitorFacts(context(), { askStorage: true, now: NOW });
    expect(f.storage).toEqual({
      waits: [
        { drive: 1, jobs: [{ jobid: 4, name: "mc-backup" }], attached: false },
      ],
    });
  });

  test("a storage daemon that cannot be asked is a fact, not a failure; --local never runs bconsole", async () => {
    const f = await monitorFacts(context(), { askStorage: true, now: NOW });
    expect(f.storage).toEqual({
      error:
        "bconsole exited with 1: Failed to connect to Director; check /etc/bacula/t.conf and that the Director is running",
    });
    rmSync(join(dir, "bconsole.stdin"));
    const local = await monitorFacts(context(), {
      askStorage: false,
      now: NOW,
    });
    expect(local.storage).toBeUndefined();
    expect(existsSync(join(dir, "bconsole.stdin"))).toBe(false);
  });

  test("--timeout bounds bconsole below [bacula] timeout", async () => {
    writeFileSync(join(dir, "sd-sleep"), "");
    const started = Date.now();
    const f = await monitorFacts(context(), {
      askStorage: true,
      timeoutSeconds: 1,
      now: NOW,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(f.storage).toEqual({
      error: expect.stringContaining("did not finish within 1 s"),
    });
  });
});

describe("the space of an attached disk", () => {
  const bay = () => join(dir, "bays", "one");
  const autofs = (): MountEntry => ({
    majorMinor: "0:99",
    mountPoint: join(dir, "bays"),
    fsType: "autofs",
    source: "systemd-1",
  });

  test("below an autofs mount with nothing mounted in the bay: not touched, not measured", async () => {
    const f = await monitorFacts(context([autofs()]), {
      askStorage: false,
      now: NOW,
    });
    expect(f.magazines[0]).toMatchObject({
      number: 1,
      attached: true,
      unmeasured: "bay 1: not mounted now (not measured: that would mount it)",
    });
    expect(f.magazines[0]?.space).toBeUndefined();
  });

  test("below an autofs mount with the disk mounted in the bay: measured", async () => {
    const disk: MountEntry = {
      majorMinor: "8:1",
      mountPoint: bay(),
      fsType: "ext4",
      source: "/dev/mapper/bacula",
    };
    const f = await monitorFacts(context([autofs(), disk]), {
      askStorage: false,
      now: NOW,
    });
    expect(f.magazines[0]?.space?.availableBytes).toBeGreaterThan(0);
  });

  test("a bay holding another disk than magazines.json says: not measured, and says why", async () => {
    rmSync(bay(), { recursive: true });
    mkdirSync(bay());
    const f = await monitorFacts(context(), { askStorage: false, now: NOW });
    expect(f.magazines[0]).toMatchObject({
      unmeasured:
        "bay 1: the disk there is not this magazine (as of the last refresh)",
    });
  });
});
