// Issue 13's resume against a real Bacula 9.6.7: ext4 loop disks through one bay, the compiled
// magchanger as the SD's Changer Command (two drives, SD as bacula:tape). A job that waits for a
// disk in the drawer continues by itself once that disk is in the bay and `magchanger refresh`
// ran: the one command the unlock -> refresh unit runs (magchanger-refresh@.service). This kernel
// has neither autofs nor device-mapper: scratch.mount/unmount stand in for udev + unlock + autofs
// bringing the disk to the bay and taking it away. [notify] is a recording notifier (a test
// script; magchanger runs it with no shell): every event either run queues must reach it once,
// in queue order, across all the refreshes the runs make.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DriveStatus,
  parseStorageStatus,
} from "../../../src/bacula/sd-status.ts";
import { skipUnless } from "../../helpers/capabilities.ts";
import { diffManifests, generateTree, hashTree } from "./files.ts";
import type { BaculaHarness } from "./harness.ts";
import {
  changerLogLines,
  CHANGER_SCENARIO,
  type Disk,
  magchanger,
  magchangerOk,
  makeDisk,
} from "./magchanger.ts";
import { type OneBay, startOneBay, stopOneBay } from "./one-bay.ts";
import { Scratch } from "./scratch.ts";

const SUITE = "resume: a job waiting for a disk continues once the disk is in";
const NAME = "mcres";
/** 12M = 12.6 MB in Bacula: a 30 MB Full spans 3 volumes. */
const VOLUME_BYTES = "12M";

/** One event as the notifier was handed it: its environment and its stdin. */
interface Recorded {
  id: string;
  kind: string;
  summary: string;
  json: string;
  event: { kind: string; volume?: string; magazine?: { name?: string } };
}

/** Appends "ID KIND SUMMARY STDIN", tab-separated, to $1 (the JSON has no raw tab). */
const RECORDING_NOTIFIER = `#!/bin/sh
input=$(cat)
printf '%s\\t%s\\t%s\\t%s\\n' "$MAGCHANGER_EVENT_ID" "$MAGCHANGER_EVENT_KIND" "$MAGCHANGER_EVENT_SUMMARY" "$input" >> "$1"
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
  const disks: Record<"A" | "B" | "C", Disk> = {} as Record<
    "A" | "B" | "C",
    Disk
  >;
  let inBay: keyof typeof disks | undefined;
  let recordFile = "";
  /** How many deliveries the record held when the current step began. */
  let seen = 0;

  const swapTo = async (which: keyof typeof disks) => {
    if (inBay) await scratch.unmount(bay);
    inBay = undefined;
    await scratch.mount(disks[which].device, bay, "rw,nodev,nosuid,noatime");
    inBay = which;
  };
  /** Every delivery the notifier recorded, in the order it ran. */
  const recorded = (): Recorded[] =>
    readFileSync(recordFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id = "", kind = "", summary = "", json = ""] = line.split("\t");
        return { id, kind, summary, json, event: JSON.parse(json) };
      });
  /**
   * A refresh (the unit's, the timer's --if-pending, or --force): what it says it delivered is
   * exactly what reached the notifier during it, none of it delivered before, and none is left.
   */
  const refresh = async (flags: string[] = []) => {
    const r = await magchangerOk(["refresh", "-c", conf, ...flags], 180_000);
    expect(r.stdout).not.toContain("still queued");
    const told = Number(/^notified: (\d+) event/m.exec(r.stdout)?.[1] ?? 0);
    const all = recorded();
    const fresh = all.slice(seen);
    expect(fresh).toHaveLength(told);
    const before = new Set(all.slice(0, seen).map((d) => d.id));
    expect(fresh.filter((d) => before.has(d.id))).toEqual([]);
    seen = all.length;
    return r;
  };
  /** What the unlock -> refresh unit runs once a disk is in. */
  const unitRefresh = () => refresh();
  /**
   * The deliveries since mark, as [kind, magazine name, volume], after checking each is the
   * event queued (same id, same JSON as in sent/, kind in the environment) and none is pending.
   */
  const deliveredSince = (mark: number) => {
    expect(events().length).toBe(events("sent").length); // nothing pending
    const slice = recorded().slice(mark);
    for (const d of slice) {
      expect(d.kind).toBe(d.event.kind);
      expect(
        readFileSync(join(workDir, "events", "sent", `${d.id}.json`), "utf8"),
      ).toBe(`${d.json}\n`);
    }
    return slice.map((d) =>
      [d.kind, d.event.magazine?.name, d.event.volume].filter(Boolean),
    );
  };
  const storageStatus = async (): Promise<DriveStatus[]> =>
    parseStorageStatus(await bacula.bconsole(`status storage="${NAME}"`));
  /** Polls the SD (no timing asserted) until a drive is blocked as wanted. */
  const blockedDrive = async (want: (d: DriveStatus) => boolean) => {
    for (let i = 0; i < 300; i++) {
      const found = (await storageStatus()).find(
        (d) => d.state === "blocked-mount" && want(d),
      );
      if (found) return found;
      await Bun.sleep(500);
    }
    throw new Error(
      `no drive blocked as expected:\n${await bacula.bconsole(`status storage="${NAME}"`)}`,
    );
  };
  /** Every event queued so far, delivered or not (or only those delivered), in queue order. */
  const events = (
    only?: "sent",
  ): {
    kind: string;
    volume?: string;
    magazine?: { name?: string };
  }[] => {
    const dir = join(workDir, "events");
    const files: [string, string][] = [];
    for (const sub of only ? [join(dir, "sent")] : [dir, join(dir, "sent")]) {
      let names: string[] = [];
      try {
        names = readdirSync(sub);
      } catch {}
      for (const n of names)
        if (/^\d{15}-\d+-\d+\.json$/.test(n)) files.push([n, join(sub, n)]);
    }
    return files
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, p]) => JSON.parse(readFileSync(p, "utf8")));
  };

  beforeAll(async () => {
    scratch = Scratch.create("resume");
    world = await startOneBay(scratch, {
      name: NAME,
      volumeBytes: VOLUME_BYTES,
      notifier: RECORDING_NOTIFIER,
      data: { sub: "full", bytes: 30 * 1000 * 1000 },
    });
    ({ bacula, conf, logFile, workDir, bay, dataDir, recordFile } = world);
    const owner = world.owner;
    disks.A = await makeDisk(scratch, "mcresA", 120, owner);
    disks.B = await makeDisk(scratch, "mcresB", 80, owner);
    disks.C = await makeDisk(scratch, "mcresC", 80, owner);
    // Each disk becomes a named magazine; refresh labels the blank volumes of A and B into the
    // pool. C stays unknown to Bacula until it is first in the bay: the fresh disk.
    const volumes = { A: "5", B: "2", C: "3" };
    const names = { A: "Monday", B: "Tuesday", C: "Wednesday" };
    for (const which of ["C", "A", "B"] as const) {
      await swapTo(which);
      await magchangerOk([
        "magazine",
        "init",
        "-c",
        conf,
        "1",
        "--volumes",
        volumes[which],
        "--name",
        names[which],
      ]);
      if (which !== "C") await unitRefresh();
    }
  }, 240_000);

  afterAll(() => stopOneBay(world, scratch));

  test("a restore waiting for disk A while disk B is in the bay finishes by itself after the swap and refresh", async () => {
    // beforeAll: each init records its disk as attached (no event), so the refresh after A's init
    // finds Wednesday gone and the one after B's finds Monday gone.
    expect(deliveredSince(0)).toEqual([
      ["magazine-removed", "Wednesday"],
      ["magazine-removed", "Monday"],
    ]);
    const mark = seen;
    await swapTo("A");
    await unitRefresh();
    const full = await bacula.waitJob(await bacula.runBackup("Full"));
    expect(full.ok).toBe(true);
    const manifest = hashTree(join(dataDir, "full"));

    await swapTo("B");
    await unitRefresh();
    const where = join(scratch.root, "restore-a");
    const restore = await bacula.runRestore([full.jobid], where);
    const blocked = await blockedDrive((d) =>
      (d.wantedVolume ?? "").startsWith(`${NAME}_0002_`),
    );
    expect(blocked.jobs.map((j) => j.jobid)).toEqual([restore]);
    // The SD asked for no load (the catalog says the volume is not in the changer): the timer's
    // retry, with nothing pending, reads the SD, queues the wait for the operator and delivers
    // it to [notify] (that one event: the refreshes before delivered the rest).
    expect(events().filter((e) => e.kind === "volume-needed")).toEqual([]);
    const timer = await refresh(["--if-pending"]);
    expect(timer.stdout).toBe(
      "nothing to do: no Bacula update is pending\nnotified: 1 event(s) delivered to [notify]\n",
    );
    expect(events("sent").at(-1)).toMatchObject({
      kind: "volume-needed",
      volume: blocked.wantedVolume,
    });
    // Another refresh while the wrong disk is in: the job is not touched, the wait is told once.
    const idle = await refresh(["--force"]);
    expect(idle.stdout).not.toContain("resumed");
    const needed = events().filter((e) => e.kind === "volume-needed");
    expect(needed.map((e) => [e.volume, e.magazine?.name])).toEqual([
      [blocked.wantedVolume, "Monday"],
    ]);

    // The operator's view of the wait: which disk, by name, and that it is in the drawer.
    const status = JSON.parse(
      (await magchangerOk(["status", "-c", conf, "--json"])).stdout,
    );
    expect(status.waiting).toMatchObject([
      {
        volume: blocked.wantedVolume,
        drive: blocked.drive,
        attached: false,
        magazine: { number: 2, name: "Monday", label: "mcresA" },
      },
    ]);
    expect(status.drives[blocked.drive as number].bacula.state).toBe(
      "blocked-mount",
    );
    // The Nagios/Icinga check of the same wait, against the real storage daemon: CRITICAL.
    const check = await magchanger(["check", "-c", conf]);
    expect(check.exitCode).toBe(2);
    expect(check.stdout.split("\n")[0]).toStartWith(
      `MAGCHANGER CRITICAL - mc-restore JobId ${restore} on drive ${blocked.drive} waits for ${blocked.wantedVolume}: attach magazine 2 "Monday"`,
    );
    expect(check.stdout.split("\n")[0]).toContain("'waiting_jobs'=1;;;0");
    const located = await magchangerOk([
      "where",
      "-c",
      conf,
      blocked.wantedVolume as string,
    ]);
    expect(located.stdout).toMatch(
      new RegExp(
        `^${blocked.wantedVolume}: slot \\d+ on magazine 2 "Monday" \\(label mcresA, UUID [0-9a-f-]{36}\\), in the drawer \\(last attached \\S+ in bay 1\\): attach it for Bacula to use this volume\n$`,
      ),
    );
    const list = await magchangerOk(["magazine", "list", "-c", conf]);
    expect(list.stdout).toMatch(
      /^bay 1 .*: magazine 3 "Tuesday" \(label mcresB, UUID [0-9a-f-]{36}\), 2 volumes, slots 9\.\.10$/m,
    );
    expect(list.stdout).toMatch(
      /^in the drawer: magazine 2 "Monday" \(label mcresA, UUID [0-9a-f-]{36}\), 5 volumes, slots 4\.\.8, last attached \S+ in bay 1$/m,
    );
    expect(list.stdout).toMatch(
      /^in the drawer: magazine 1 "Wednesday" \(label mcresC, UUID [0-9a-f-]{36}\), 3 volumes, slots 1\.\.3, last attached \S+ in bay 1$/m,
    );
    // status queued nothing more: the wait was already told.
    expect(events().filter((e) => e.kind === "volume-needed")).toHaveLength(1);

    await swapTo("A");
    const resumed = await unitRefresh();
    expect(resumed.stdout).toContain(
      `resumed drive ${blocked.drive}: mc-restore (JobId ${restore}) waited for volume "${blocked.wantedVolume}"`,
    );
    const result = await bacula.waitJob(restore, { stuckMs: 120_000 });
    expect(result).toMatchObject({ status: "T", ok: true });
    expect(
      diffManifests(manifest, hashTree(join(where, dataDir, "full"))),
    ).toEqual([]);

    // The timer's next run delivers whatever the SD's changer calls queued during the restore.
    await refresh(["--if-pending"]);
    expect(deliveredSince(mark)).toEqual([
      // A in for the Full: B (Tuesday, in since beforeAll) went, A (Monday) came.
      ["magazine-removed", "Tuesday"],
      ["magazine-attached", "Monday"],
      // B in for the restore to wait on.
      ["magazine-removed", "Monday"],
      ["magazine-attached", "Tuesday"],
      // The restore waits for the Full's first volume, on Monday in the drawer: told once by the
      // timer's retry, not again by --force, status or the resuming refresh.
      ["volume-needed", "Monday", blocked.wantedVolume as string],
      // The swap back that resumes it; the restore's loads all find their volume.
      ["magazine-removed", "Tuesday"],
      ["magazine-attached", "Monday"],
    ]);
    const told = recorded()
      .slice(mark)
      .find((d) => d.kind === "volume-needed") as Recorded;
    expect(told.summary).toStartWith(
      `${NAME}: Bacula needs volume ${blocked.wantedVolume} (slot `,
    );
    expect(told.summary).toContain(
      `attach magazine 2 "Monday" (label mcresA, UUID `,
    );
  }, 300_000);

  test("a backup that fills disk B waits for a fresh disk and continues on disk C after the swap and refresh", async () => {
    // B's two volumes (25 MB) cannot hold 30 MB, and A's are closed: the job must wait for a
    // volume that does not exist yet, on a fresh disk.
    for (let v = 1; v <= 5; v++)
      await bacula.bconsole(
        `update volume=${NAME}_0002_000${v} volstatus=Used`,
      );
    generateTree(join(dataDir, "incr"), 30 * 1000 * 1000);
    const mark = seen;
    await swapTo("B");
    await unitRefresh();
    const job = await bacula.runBackup("Incremental");
    const blocked = await blockedDrive((d) =>
      d.jobs.some((j) => j.jobid === job),
    );
    expect(blocked.wantedVolume).toBeUndefined();

    await swapTo("C");
    const resumed = await unitRefresh();
    expect(resumed.stdout).toContain(
      `resumed drive ${blocked.drive}: mc-backup (JobId ${job}) waited for a volume`,
    );
    const result = await bacula.waitJob(job, { stuckMs: 120_000 });
    expect(result).toMatchObject({ status: "T", ok: true });
    const log = (await bacula.jobLog(job)).join("\n");
    const volumes =
      /Volume name\(s\):\s+(\S*)/.exec(log)?.[1]?.split("|") ?? [];
    expect(volumes.some((v) => v.startsWith(`${NAME}_0003_`))).toBe(true);
    expect(volumes.some((v) => v.startsWith(`${NAME}_0001_`))).toBe(true);
    expect(changerLogLines(logFile, "error")).toEqual([]);

    await refresh(["--if-pending"]);
    expect(deliveredSince(mark)).toEqual([
      // B in for the backup: A (Monday, in since the restore) went, B (Tuesday) came.
      ["magazine-removed", "Monday"],
      ["magazine-attached", "Tuesday"],
      // The wait names no volume (C's are not in the catalog yet): no volume-needed. C in.
      ["magazine-removed", "Tuesday"],
      ["magazine-attached", "Wednesday"],
    ]);
  }, 300_000);

  test("both runs queued each attach, removal and wait once, in order, and the notifier got each once, in that order", () => {
    // Everything queued was delivered, in queue order, each event once.
    const all = recorded();
    expect(all.map((d) => d.id)).toEqual(
      readdirSync(join(workDir, "events", "sent"))
        .filter((n) => n.endsWith(".json"))
        .sort()
        .map((n) => n.slice(0, -".json".length)),
    );
    expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
    expect(events().length).toBe(all.length);
    expect(
      events().map((e) => [e.kind, e.magazine?.name, e.volume].filter(Boolean)),
    ).toEqual([
      // beforeAll: each init records its disk as attached; the next refresh sees the last one go.
      ["magazine-removed", "Wednesday"],
      ["magazine-removed", "Monday"],
      // the restore
      ["magazine-removed", "Tuesday"],
      ["magazine-attached", "Monday"],
      ["magazine-removed", "Monday"],
      ["magazine-attached", "Tuesday"],
      ["volume-needed", "Monday", `${NAME}_0002_0001`],
      ["magazine-removed", "Tuesday"],
      ["magazine-attached", "Monday"],
      // the backup
      ["magazine-removed", "Monday"],
      ["magazine-attached", "Tuesday"],
      ["magazine-removed", "Tuesday"],
      ["magazine-attached", "Wednesday"],
    ]);
  });
});
