// Issue 21's "a disk with space is needed" against a real Bacula 9.6.7: ext4 loop disks through one
// bay, the compiled magchanger as the SD's Changer Command (two drives, SD as bacula:tape). A
// Full fills disk A ("Monday") while disk B ("Tuesday"), in the drawer, holds recyclable volumes
// of the pool: the SD waits for any appendable volume and names none, and the timer's
// `refresh --if-pending` tells the operator, once, that Tuesday holds them and how much room it
// has. Attached, pruned and refreshed, Tuesday takes the rest of the backup. This kernel has
// neither autofs nor device-mapper: scratch.mount/unmount stand in for udev + unlock + autofs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statfsSync } from "node:fs";
import { join } from "node:path";
import {
  type DriveStatus,
  parseStorageStatus,
} from "../../../src/bacula/sd-status.ts";
import { skipUnless } from "../../helpers/capabilities.ts";
import { generateTree } from "./files.ts";
import type { BaculaHarness } from "./harness.ts";
import {
  CHANGER_SCENARIO,
  changerLogLines,
  type Disk,
  magchangerOk,
  makeDisk,
} from "./magchanger.ts";
import { type OneBay, startOneBay, stopOneBay } from "./one-bay.ts";
import { Scratch } from "./scratch.ts";

const SUITE =
  "space-needed: a backup that fills the attached disk names the disk in the drawer with room";
const NAME = "mcspc";
/** 12M = 12.6 MB in Bacula: disk A's two volumes hold 25 MB of the 45 MB Full. */
const VOLUME_BYTES = "12M";
const MiB = 1024 * 1024;

/** Appends "KIND<TAB>SUMMARY<TAB>STDIN" to $1 (the JSON has no raw tab). */
const RECORDING_NOTIFIER = `#!/bin/sh
input=$(cat)
printf '%s\\t%s\\t%s\\n' "$MAGCHANGER_EVENT_KIND" "$MAGCHANGER_EVENT_SUMMARY" "$input" >> "$1"
`;

describe.skipIf(skipUnless(CHANGER_SCENARIO, SUITE))(SUITE, () => {
  let scratch: Scratch;
  let world: OneBay | undefined;
  let bacula: BaculaHarness;
  let conf = "";
  let logFile = "";
  let workDir = "";
  let bay = "";
  let dataDir = "";
  let recordFile = "";
  const disks = {} as Record<"A" | "B", Disk>;
  let inBay: "A" | "B" | undefined;

  const swapTo = async (which: "A" | "B") => {
    if (inBay) await scratch.unmount(bay);
    inBay = undefined;
    await scratch.mount(disks[which].device, bay, "rw,nodev,nosuid,noatime");
    inBay = which;
  };
  const recorded = () =>
    readFileSync(recordFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [kind = "", summary = "", json = ""] = line.split("\t");
        return { kind, summary, event: JSON.parse(json) };
      });
  const queued = (kind: string) => {
    const events: { kind: string }[] = [];
    for (const sub of ["events", join("events", "sent")])
      for (const f of readdirSync(join(workDir, sub)))
        if (f.endsWith(".json"))
          events.push(JSON.parse(readFileSync(join(workDir, sub, f), "utf8")));
    return events.filter((e) => e.kind === kind);
  };
  const storageStatus = async (): Promise<DriveStatus[]> =>
    parseStorageStatus(await bacula.bconsole(`status storage="${NAME}"`));
  const blockedFor = async (jobid: number): Promise<DriveStatus> => {
    for (let i = 0; i < 300; i++) {
      const found = (await storageStatus()).find(
        (d) =>
          d.state === "blocked-mount" && d.jobs.some((j) => j.jobid === jobid),
      );
      if (found) return found;
      await Bun.sleep(500);
    }
    throw new Error(
      `job ${jobid} never blocked:\n${await bacula.bconsole(`status storage="${NAME}"`)}`,
    );
  };

  beforeAll(async () => {
    scratch = Scratch.create("space");
    world = await startOneBay(scratch, {
      name: NAME,
      volumeBytes: VOLUME_BYTES,
      notifier: RECORDING_NOTIFIER,
      data: { sub: "first", bytes: 15 * 1000 * 1000 },
    });
    ({ bacula, conf, logFile, workDir, bay, dataDir, recordFile } = world);
    const owner = world.owner;
    disks.A = await makeDisk(scratch, "mcspcA", 80, owner);
    disks.B = await makeDisk(scratch, "mcspcB", 80, owner);
  }, 240_000);

  afterAll(() => stopOneBay(world, scratch));

  test("the timer names Tuesday, in the drawer with recyclable volumes, once; attached, it takes the rest of the backup", async () => {
    // Tuesday gets a first backup, then its volumes are done with: Used, Recycle = yes, retention
    // over. The harness's Pool has AutoPrune = no, so the Director leaves them as they are while
    // the disk is in the drawer and the job waits for any volume with space. (With AutoPrune = yes
    // it prunes and recycles one there itself and hands it to the SD, which, its Devices saying
    // Removable Media = yes, waits for it by name like the Append one of drawer-volume.test.ts.)
    await swapTo("B");
    await magchangerOk([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "3",
      "--name",
      "Tuesday",
    ]);
    await magchangerOk(["refresh", "-c", conf]);
    const first = await bacula.waitJob(await bacula.runBackup("Full"));
    expect(first.ok).toBe(true);
    const tuesday = [1, 2, 3].map((v) => `${NAME}_0001_000${v}`);
    for (const v of tuesday)
      await bacula.bconsole(
        `update volume=${v} recycle=yes volretention=1\nupdate volume=${v} volstatus=Used`,
      );

    // Monday in, the Full of 45 MB fills its two volumes and waits for any appendable volume.
    await swapTo("A");
    await magchangerOk([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "2",
      "--name",
      "Monday",
    ]);
    await magchangerOk(["refresh", "-c", conf]);
    generateTree(join(dataDir, "second"), 30 * 1000 * 1000);
    const job = await bacula.runBackup("Full");
    const blocked = await blockedFor(job);
    // The SD's own words for this wait (9.6.7): no volume named, the pool on the next line.
    expect(blocked.wantedVolume).toBeUndefined();
    expect(blocked.wantedPool).toBe("mc-pool");
    expect(await bacula.bconsole(`status storage="${NAME}"`)).toContain(
      "Device is BLOCKED waiting to create a volume for:\n       Pool:        mc-pool\n",
    );
    const waiting = new RegExp(
      `JobId ${job}: Job mc-backup\\.\\S+ is waiting\\. Cannot find any appendable volumes\\.`,
    );
    let said = "";
    for (let i = 0; i < 60 && !waiting.test(said); i++) {
      said += await bacula.messages(); // the Director hands a job's messages on in batches
      if (!waiting.test(said)) await Bun.sleep(500);
    }
    expect(said).toMatch(waiting);

    // The timer's retry, nothing pending: one event, delivered, naming Tuesday.
    const timer = await magchangerOk(["refresh", "-c", conf, "--if-pending"]);
    expect(timer.stdout).toBe(
      "nothing to do: no Bacula update is pending\nnotified: 1 event(s) delivered to [notify]\n",
    );
    const catalog = new Map((await bacula.volumes()).map((v) => [v.name, v]));
    const reusable = tuesday.reduce(
      (sum, v) => sum + (catalog.get(v)?.bytes ?? 0),
      0,
    );
    const told = recorded().filter((r) => r.kind === "space-needed");
    expect(told).toHaveLength(1);
    const event = told[0]?.event;
    expect(event).toMatchObject({
      kind: "space-needed",
      pool: "mc-pool",
      jobs: [{ jobid: job, name: "mc-backup" }],
      magazines: [
        {
          magazine: { number: 1, name: "Tuesday", label: "mcspcB" },
          appendable: 0,
          recyclable: 3,
          purged: 0,
          unlabeled: 0,
          volumes: tuesday,
          reusableBytes: reusable,
        },
      ],
    });
    expect(reusable).toBeGreaterThan(15 * 1000 * 1000);
    // Its room: measured when Tuesday was refreshed (before its Full), less what the catalog
    // says the Full wrote. Against the disk itself, mounted aside read-only: within 1 MiB.
    const aside = join(scratch.root, "aside");
    mkdirSync(aside);
    await scratch.mount(disks.B.device, aside, "ro,nodev,nosuid,noexec");
    const fs = statfsSync(aside);
    await scratch.unmount(aside);
    const real = Number(fs.bavail) * Number(fs.bsize);
    const estimated = event.magazines[0].freeBytes as number;
    console.info(
      `space-needed: Tuesday's free space estimated ${estimated} bytes, on the disk ${real} (${estimated - real})`,
    );
    expect(Math.abs(estimated - real)).toBeLessThan(MiB);
    console.info(`space-needed: told "${told[0]?.summary}"`);
    expect(told[0]?.summary).toMatch(
      new RegExp(
        `^${NAME}: Bacula needs a volume with space in pool "mc-pool" for mc-backup JobId ${job}: attach magazine 1 "Tuesday" \\(label mcspcB, UUID [0-9a-f-]{36}\\): 3 volumes it may use \\(3 recyclable; [\\d.]+ MiB to reuse\\), about [\\d.]+ MiB free$`,
      ),
    );

    // Told once: the timer again, a forced refresh and status all see the same wait.
    const again = await magchangerOk(["refresh", "-c", conf, "--if-pending"]);
    expect(again.stdout).toBe("nothing to do: no Bacula update is pending\n");
    await magchangerOk(["refresh", "-c", conf, "--force"]);
    const status = await magchangerOk(["status", "-c", conf]);
    expect(status.stdout).toMatch(
      new RegExp(
        `^mc-backup JobId ${job} waits for a volume with space in pool "mc-pool": attach magazine 1 "Tuesday" \\(label mcspcB, UUID [0-9a-f-]{36}\\): 3 volumes it may use \\(3 recyclable; [\\d.]+ MiB to reuse\\), about [\\d.]+ MiB free; the refresh that follows lets it try again$`,
        "m",
      ),
    );
    expect(queued("space-needed")).toHaveLength(1);

    // The operator brings Tuesday; the unit's refresh tells Bacula. Its volumes are only
    // recyclable (AutoPrune = no here), so the operator prunes them and refreshes: the job goes on.
    await swapTo("B");
    await magchangerOk(["refresh", "-c", conf]);
    for (const v of tuesday) await bacula.bconsole(`prune volume=${v} yes`);
    const resumed = await magchangerOk(["refresh", "-c", conf, "--force"]);
    expect(resumed.stdout).toContain(
      `resumed drive ${blocked.drive}: mc-backup (JobId ${job}) waited for a volume`,
    );
    const result = await bacula.waitJob(job, { stuckMs: 120_000 });
    expect(result).toMatchObject({ status: "T", ok: true });
    const log = (await bacula.jobLog(job)).join("\n");
    const volumes =
      /Volume name\(s\):\s+(\S*)/.exec(log)?.[1]?.split("|") ?? [];
    expect(volumes.some((v) => v.startsWith(`${NAME}_0002_`))).toBe(true);
    expect(volumes.some((v) => v.startsWith(`${NAME}_0001_`))).toBe(true);
    expect(queued("space-needed")).toHaveLength(1);
    expect(changerLogLines(logFile, "error")).toEqual([]);
  }, 420_000);
});
