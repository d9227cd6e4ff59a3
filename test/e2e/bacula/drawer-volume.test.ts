// A backup that fills the attached disk while the disk in the drawer holds appendable volumes of
// the pool, against a real Bacula 9.6.7 (ext4 loop disks through one bay, the compiled magchanger
// as the SD's Changer Command, two drives, SD as bacula:tape). The Director then picks one of the
// drawer disk's volumes itself (Append, InChanger = no). The SD must wait for that volume by name
// (the operator is told which disk, brings it, refresh resumes the job), never mark the good
// volume Error because it could not open it: with `Removable Media = no` on its Devices it did
// (9.6.7: "No slot defined in catalog", "Marking Volume ... in Error in Catalog"). This kernel has
// neither autofs nor device-mapper: scratch.mount/unmount stand in for udev + unlock + autofs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
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
  "drawer volume: a backup that fills the attached disk waits for the drawer disk's volume by name";
const NAME = "mcdrw";
/** 12M = 12.6 MB in Bacula: Monday's two volumes hold 25 MB of the 35 MB Full. */
const VOLUME_BYTES = "12M";

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
  const storageStatus = async (): Promise<DriveStatus[]> =>
    parseStorageStatus(await bacula.bconsole(`status storage="${NAME}"`));
  const errorVolumes = async () =>
    (await bacula.volumes())
      .filter((v) => v.status === "Error")
      .map((v) => v.name);
  /**
   * Polls until the job's drive is blocked or a volume was marked Error (what 9.6.7 did with
   * `Removable Media = no`: then the test fails at once, naming the volumes, instead of waiting).
   */
  const blockedOrError = async (jobid: number) => {
    for (let i = 0; i < 300; i++) {
      const errors = await errorVolumes();
      if (errors.length > 0) return { errors, drive: undefined };
      const drive = (await storageStatus()).find(
        (d) =>
          d.state === "blocked-mount" && d.jobs.some((j) => j.jobid === jobid),
      );
      if (drive) return { errors, drive };
      await Bun.sleep(500);
    }
    throw new Error(
      `job ${jobid} never blocked:\n${await bacula.bconsole(`status storage="${NAME}"`)}`,
    );
  };

  beforeAll(async () => {
    scratch = Scratch.create("drawer");
    world = await startOneBay(scratch, {
      name: NAME,
      volumeBytes: VOLUME_BYTES,
      notifier: RECORDING_NOTIFIER,
      data: { sub: "", bytes: 35 * 1000 * 1000 },
    });
    ({ bacula, conf, logFile, bay, dataDir, recordFile } = world);
    const owner = world.owner;
    disks.A = await makeDisk(scratch, "mcdrwA", 80, owner);
    disks.B = await makeDisk(scratch, "mcdrwB", 80, owner);
  }, 240_000);

  afterAll(() => stopOneBay(world, scratch));

  test("the drawer disk's Append volume is waited for by name, told, and written once its disk is in; none is marked Error", async () => {
    // Tuesday: two blank volumes, labeled into the pool by refresh (Append, never written).
    await swapTo("B");
    await magchangerOk([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "2",
      "--name",
      "Tuesday",
    ]);
    await magchangerOk(["refresh", "-c", conf]);
    // Monday in, the same; Tuesday's volumes stay Append in the catalog, not in the changer.
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
    const tuesday = [`${NAME}_0001_0001`, `${NAME}_0001_0002`];
    expect(
      (await bacula.volumes())
        .filter((v) => tuesday.includes(v.name))
        .map((v) => [v.name, v.status, v.inChanger]),
    ).toEqual(tuesday.map((v) => [v, "Append", false]));

    const job = await bacula.runBackup("Full");
    const seen = await blockedOrError(job);
    if (seen.errors.length > 0)
      console.info(
        `drawer volume: the SD's words:\n${(await bacula.jobLog(job)).join("\n")}`,
      );
    expect(seen.errors).toEqual([]);
    const blocked = seen.drive as DriveStatus;
    const wanted = blocked.wantedVolume ?? "";
    expect(tuesday).toContain(wanted);
    console.info(
      `drawer volume: mc-backup JobId ${job} blocked on drive ${blocked.drive} waiting for ${blocked.wantedVolume}`,
    );

    // The timer's retry, nothing pending: one volume-needed, naming Tuesday.
    const timer = await magchangerOk(["refresh", "-c", conf, "--if-pending"]);
    expect(timer.stdout).toBe(
      "nothing to do: no Bacula update is pending\nnotified: 1 event(s) delivered to [notify]\n",
    );
    const told = recorded().filter((r) => r.kind === "volume-needed");
    expect(told.map((r) => [r.event.volume, r.event.magazine?.name])).toEqual([
      [blocked.wantedVolume, "Tuesday"],
    ]);

    // A refresh while Tuesday is still in the drawer (another disk's event, or by hand): the job
    // waits for its volume, it does not use it; nothing is cancelled or marked Error.
    const idle = await magchangerOk(["refresh", "-c", conf, "--force"]);
    expect(idle.stdout).not.toContain("resumed");
    expect(idle.stdout).not.toContain("WARN");
    expect(await errorVolumes()).toEqual([]);
    expect(
      (await storageStatus()).find((d) => d.drive === blocked.drive),
    ).toMatchObject({
      state: "blocked-mount",
      wantedVolume: blocked.wantedVolume,
    });

    // The operator brings Tuesday; the unit's refresh tells Bacula and wakes the job.
    await swapTo("B");
    const resumed = await magchangerOk(["refresh", "-c", conf]);
    expect(resumed.stdout).toContain(
      `resumed drive ${blocked.drive}: mc-backup (JobId ${job}) waited for volume "${blocked.wantedVolume}"`,
    );
    const result = await bacula.waitJob(job, { stuckMs: 120_000 });
    expect(result).toMatchObject({ status: "T", ok: true });
    const log = (await bacula.jobLog(job)).join("\n");
    const volumes =
      /Volume name\(s\):\s+(\S*)/.exec(log)?.[1]?.split("|") ?? [];
    expect(volumes.filter((v) => v.startsWith(`${NAME}_0002_`))).toHaveLength(
      2,
    );
    expect(volumes).toContain(wanted);
    expect(log).not.toContain("in Error in Catalog");
    expect(await errorVolumes()).toEqual([]);
    expect(changerLogLines(logFile, "error")).toEqual([]);
  }, 420_000);

  test("a Purged volume of the drawer disk the Director recycles is waited for by name too, then recycled and written", async () => {
    // After the first test Tuesday is in, its first volume written. Purged (its job forgotten)
    // with Recycle = yes, the Director may recycle it; its second volume is closed (Used),
    // Monday's are Full.
    const purged = `${NAME}_0001_0001`;
    await bacula.bconsole(
      `update volume=${purged} recycle=yes\npurge volume=${purged} yes`,
    );
    await bacula.bconsole(`update volume=${NAME}_0001_0002 volstatus=Used`);
    expect(
      (await bacula.volumes()).find((v) => v.name === purged)?.status,
    ).toBe("Purged");
    await swapTo("A");
    await magchangerOk(["refresh", "-c", conf]);
    // The purge forgot the first Full too: this one is small enough for the recycled volume.
    rmSync(dataDir, { recursive: true });
    generateTree(dataDir, 2 * 1000 * 1000);
    const job = await bacula.runBackup("Full");
    const seen = await blockedOrError(job);
    expect(seen.errors).toEqual([]);
    expect(seen.drive?.wantedVolume).toBe(purged);

    await swapTo("B");
    const resumed = await magchangerOk(["refresh", "-c", conf]);
    expect(resumed.stdout).toContain(
      `mc-backup (JobId ${job}) waited for volume "${purged}"`,
    );
    const result = await bacula.waitJob(job, { stuckMs: 120_000 });
    expect(result).toMatchObject({ status: "T", ok: true });
    const log = (await bacula.jobLog(job)).join("\n");
    expect(log).toContain(`Recycled volume "${purged}"`);
    expect(/Volume name\(s\):\s+(\S*)/.exec(log)?.[1]).toBe(purged);
    expect(await errorVolumes()).toEqual([]);
  }, 300_000);
});
