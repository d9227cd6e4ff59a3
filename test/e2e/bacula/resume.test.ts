// Issue 13's resume against a real Bacula 9.6.7: ext4 loop disks through one bay, the compiled
// magchanger as the SD's Changer Command (two drives, SD as bacula:tape). A job that waits for a
// disk in the drawer continues by itself once that disk is in the bay and `magchanger refresh`
// ran: the one command the unlock -> refresh unit runs (magchanger-refresh@.service). This kernel
// has neither autofs nor device-mapper: scratch.mount/unmount stand in for udev + unlock + autofs
// bringing the disk to the bay and taking it away.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  type DriveStatus,
  parseStorageStatus,
} from "../../../src/bacula/sd-status.ts";
import { skipUnless } from "../../helpers/capabilities.ts";
import { diffManifests, generateTree, hashTree } from "./files.ts";
import { type BaculaHarness, resolveUser, startBacula } from "./harness.ts";
import {
  changerLogLines,
  CHANGER_SCENARIO,
  type Disk,
  magchangerBinary,
  magchangerOk,
  makeDisk,
} from "./magchanger.ts";
import { Scratch } from "./scratch.ts";

const SUITE = "resume: a job waiting for a disk continues once the disk is in";
const NAME = "mcres";
/** 12M = 12.6 MB in Bacula: a 30 MB Full spans 3 volumes. */
const VOLUME_BYTES = "12M";

describe.skipIf(skipUnless(CHANGER_SCENARIO, SUITE))(SUITE, () => {
  let scratch: Scratch;
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

  const swapTo = async (which: keyof typeof disks) => {
    if (inBay) await scratch.unmount(bay);
    inBay = undefined;
    await scratch.mount(disks[which].device, bay, "rw,nodev,nosuid,noatime");
    inBay = which;
  };
  /** What the unlock -> refresh unit runs once a disk is in. */
  const unitRefresh = () => magchangerOk(["refresh", "-c", conf], 180_000);
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
  /** Every event queued so far, delivered or not, in queue order. */
  const events = (): {
    kind: string;
    volume?: string;
    magazine?: { name?: string };
  }[] => {
    const dir = join(workDir, "events");
    const files: [string, string][] = [];
    for (const sub of [dir, join(dir, "sent")]) {
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
    const root = scratch.root;
    const owner = resolveUser("bacula", "tape");
    bay = join(root, "bay");
    dataDir = join(root, "data");
    workDir = join(root, "work");
    logFile = join(root, "log", `${NAME}.log`);
    for (const d of [bay, workDir, join(root, "log")])
      mkdirSync(d, { mode: 0o755 });
    chownSync(workDir, owner.uid, owner.gid);
    chownSync(join(root, "log"), owner.uid, owner.gid);
    generateTree(join(dataDir, "full"), 30 * 1000 * 1000);
    conf = join(root, `${NAME}.toml`);
    bacula = await startBacula({
      filesetDir: dataDir,
      names: { storage: NAME },
      autochanger: {
        changerCommand: `${magchangerBinary()} changer %c %o %S %a %d`,
        changerDevice: conf,
        drives: [join(workDir, "drive0"), join(workDir, "drive1")],
        maximumChangerWait: 60,
      },
      maximumVolumeBytes: VOLUME_BYTES,
      sdUser: "bacula",
      sdGroup: "tape",
    });
    writeFileSync(
      conf,
      `name = "${NAME}"
work_dir = "${workDir}"
log_file = "${logFile}"
log_level = "debug"
user = "bacula"
group = "tape"
drives = 2
lock_timeout = 30

[[magazine]]
path = "${bay}"

[bacula]
bconsole = "${bacula.bconsolePath}"
config = "${bacula.bconsoleConfPath}"
storage = "${NAME}"
pool = "${bacula.names.pool}"
drive = 0
timeout = 120

[notify]
command = ["/bin/true"]
`,
      { mode: 0o644 },
    );
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

  afterAll(async () => {
    const warnings = logFile ? changerLogLines(logFile, "warn") : [];
    if (warnings.length > 0)
      console.info(`changer log warnings:\n${warnings.join("\n")}`);
    await bacula?.stop();
    await scratch?.cleanup();
  });

  test("a restore waiting for disk A while disk B is in the bay finishes by itself after the swap and refresh", async () => {
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
    // retry, with nothing pending, reads the SD and queues the wait for the operator.
    expect(events().filter((e) => e.kind === "volume-needed")).toEqual([]);
    const timer = await magchangerOk(["refresh", "-c", conf, "--if-pending"]);
    expect(timer.stdout).toBe("nothing to do: no Bacula update is pending\n");
    // Another refresh while the wrong disk is in: the job is not touched, the wait is told once.
    const idle = await magchangerOk(
      ["refresh", "-c", conf, "--force"],
      180_000,
    );
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
  }, 300_000);

  test("a backup that fills disk B waits for a fresh disk and continues on disk C after the swap and refresh", async () => {
    // B's two volumes (25 MB) cannot hold 30 MB, and A's are closed: the job must wait for a
    // volume that does not exist yet, on a fresh disk.
    for (let v = 1; v <= 5; v++)
      await bacula.bconsole(
        `update volume=${NAME}_0002_000${v} volstatus=Used`,
      );
    generateTree(join(dataDir, "incr"), 30 * 1000 * 1000);
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
  }, 300_000);

  test("both runs queued each attach, removal and wait once, in order", () => {
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
