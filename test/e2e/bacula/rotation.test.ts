// Issue 3's scenario against a real Bacula 9.6: two ext4 disks (loop devices) are the magazines
// of one bay, the compiled magchanger is the SD's Changer Command with two drives, and the SD
// runs as bacula:tape as on Debian. A 200 MB Full spans >= 4 volumes of disk A; the disk is
// swapped and `magchanger refresh` (run as udev would) is the only step that tells Bacula; an
// Incremental lands on disk B; the disk is swapped back; both jobs restore byte for byte.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../../helpers/capabilities.ts";
import { CHANGER_TROUBLE } from "./bconsole-output.ts";
import { diffManifests, generateTree, hashTree } from "./files.ts";
import { type BaculaHarness, resolveUser } from "./harness.ts";
import {
  changerInvocations,
  changerLogLines,
  CHANGER_SCENARIO,
  type Disk,
  magchangerBinary,
  magchangerOk,
  makeDisk,
  startChangerBacula,
  writeChangerToml,
} from "./magchanger.ts";
import {
  type ChangerCalls,
  changerCalls,
  changerTimeLine,
  logLines,
  processCost,
} from "./changer-time.ts";
import { diskChangerJobs, PEER_ENV, type PeerJobs } from "./rotation-peer.ts";
import { Scratch } from "./scratch.ts";

const SUITE = "rotation: two disk magazines through a real Bacula";

const NAME = "mcrot";
const DATA_BYTES = 200 * 1000 * 1000;
/** 35M = 36.7 MB in Bacula (M is 2^20): the Full needs 6 volumes of disk A. */
const VOLUME_BYTES = "35M";

interface JobFigures {
  ms: number;
  loads: number;
  unloads: number;
  changerCalls: number;
  /** The protocol calls the changer log recorded during the job. */
  calls: ChangerCalls;
  volumes: string[];
}

/** Opt-in: the same Full and restore through Bacula's disk-changer, for a job-time ratio. */
const PEER = process.env[PEER_ENV];

describe.skipIf(skipUnless(CHANGER_SCENARIO, SUITE))(SUITE, () => {
  let scratch: Scratch;
  let bacula: BaculaHarness;
  let conf = "";
  let logFile = "";
  let bay = "";
  let dataDir = "";
  const disks: Record<"A" | "B", Disk> = {} as Record<"A" | "B", Disk>;
  const figures: Record<string, JobFigures> = {};
  let fullJob = 0;
  let fullManifest = new Map<string, string>();
  let runAsIds = { uid: 0, gid: 0 };
  let peer: PeerJobs | undefined;

  const insertDisk = async (which: "A" | "B") =>
    scratch.mount(disks[which].device, bay, "rw,nodev,nosuid,noatime");
  const removeDisk = async () => scratch.unmount(bay);

  /** Runs a job and measures it: wall time, changer loads/unloads (job log), changer invocations (changer log). */
  const measured = async (key: string, start: () => Promise<number>) => {
    const calls0 = changerInvocations(logFile);
    const lines0 = logLines(logFile).length;
    const t0 = performance.now();
    const result = await bacula.waitJob(await start(), {
      timeoutMs: 240_000,
    });
    const ms = Math.round(performance.now() - t0);
    const log = await bacula.jobLog(result.jobid);
    const text = log.join("\n");
    figures[key] = {
      ms,
      loads: log.filter((l) => l.includes('3304 Issuing autochanger "load'))
        .length,
      unloads: log.filter((l) => l.includes('3307 Issuing autochanger "unload'))
        .length,
      changerCalls: changerInvocations(logFile) - calls0,
      calls: changerCalls(logFile, lines0),
      volumes:
        /Volume name\(s\):\s+(\S*)/
          .exec(text)?.[1]
          ?.split("|")
          .filter(Boolean) ?? [],
    };
    expect(result, text).toMatchObject({ status: "T", ok: true });
    expect(log.filter((l) => CHANGER_TROUBLE.test(l))).toEqual([]);
    return { result, log, text };
  };

  beforeAll(async () => {
    scratch = Scratch.create("rotation");
    const root = scratch.root;
    const bacula_ = resolveUser("bacula", "tape");
    runAsIds = { uid: bacula_.uid, gid: bacula_.gid };
    bay = join(root, "bay");
    dataDir = join(root, "data");
    const workDir = join(root, "work");
    logFile = join(root, "log", `${NAME}.log`);
    for (const d of [bay, workDir, join(root, "log")])
      mkdirSync(d, { mode: 0o755 });
    chownSync(workDir, bacula_.uid, bacula_.gid);
    chownSync(join(root, "log"), bacula_.uid, bacula_.gid);
    generateTree(dataDir, DATA_BYTES);
    fullManifest = hashTree(dataDir);

    conf = join(root, `${NAME}.toml`);
    bacula = await startChangerBacula({
      name: NAME,
      conf,
      workDir,
      dataDir,
      maximumVolumeBytes: VOLUME_BYTES,
    });
    writeChangerToml({ conf, name: NAME, workDir, logFile, bay, bacula });
    disks.A = await makeDisk(scratch, "mcrotA", 320, bacula_);
    disks.B = await makeDisk(scratch, "mcrotB", 200, bacula_);
  }, 180_000);

  afterAll(async () => {
    for (const [job, f] of Object.entries(figures)) {
      const vols = f.volumes.length ? `, volumes ${f.volumes.join(" ")}` : "";
      console.info(
        `rotation ${job}: ${(f.ms / 1000).toFixed(1)} s, ${f.loads} loads, ` +
          `${f.unloads} unloads, ${f.changerCalls} changer calls${vols}`,
      );
    }
    // What the changer cost each job: its calls times the whole-process cost of one call as
    // the SD pays it (measured now, the daemons idle; inside a job they compete for the CPU).
    if (conf && Object.keys(figures).length > 0) {
      const cost = processCost(
        [
          magchangerBinary(),
          "changer",
          conf,
          "loaded",
          "0",
          join(scratch.root, "work", "drive0"),
          "0",
        ],
        runAsIds,
      );
      for (const [job, f] of Object.entries(figures))
        console.info(`rotation ${changerTimeLine(job, f.ms, f.calls, cost)}`);
    }
    if (peer) {
      for (const line of peer.lines) console.info(`rotation peer ${line}`);
      const full = figures.full;
      const restore = figures.restoreFull;
      if (full && restore)
        console.info(
          `rotation magchanger / disk-changer job time: full ${(full.ms / peer.full).toFixed(2)}, restoreFull ${(restore.ms / peer.restoreFull).toFixed(2)}`,
        );
    }
    const warnings = logFile ? changerLogLines(logFile, "warn") : [];
    if (warnings.length > 0)
      console.info(`changer log warnings:\n${warnings.join("\n")}`);
    // Daemons first: the SD may hold a volume open on the mounted disk.
    await bacula?.stop();
    await scratch?.cleanup();
  });

  // Before magchanger's jobs, so both Fulls back up the same 200 MB; its own Bacula, stopped after.
  test.skipIf(!PEER)(
    `opt-in (${PEER_ENV}=disk-changer): the same Full and restore through Bacula's disk-changer`,
    async () => {
      expect(PEER).toBe("disk-changer");
      peer = await diskChangerJobs(scratch, dataDir, VOLUME_BYTES, runAsIds);
    },
    600_000,
  );

  test("both disks become magazines of one bay; label barcodes labels disk A's volumes", async () => {
    await insertDisk("A");
    await magchangerOk(["magazine", "init", "-c", conf, "1", "--volumes", "8"]);
    await removeDisk();
    await insertDisk("B");
    await magchangerOk(["magazine", "init", "-c", conf, "1", "--volumes", "4"]);
    await removeDisk();
    await insertDisk("A");

    const label = await bacula.labelBarcodes();
    const vols = await bacula.volumes();
    expect(
      vols.map((v) => [v.name, v.slot, v.inChanger]),
      label,
    ).toEqual(
      Array.from({ length: 8 }, (_, i) => [
        `${NAME}_0001_000${i + 1}`,
        i + 1,
        true,
      ]),
    );
    expect(changerLogLines(logFile, "error")).toEqual([]);
  }, 180_000);

  test("a 200 MB Full loads and unloads >= 4 volumes of disk A and restores byte for byte", async () => {
    const backup = await measured("full", () => bacula.runBackup("Full"));
    fullJob = backup.result.jobid;
    const f = figures.full as JobFigures;
    expect(f.loads).toBeGreaterThanOrEqual(4);
    expect(f.unloads).toBeGreaterThanOrEqual(4);
    expect(f.volumes.every((v) => v.startsWith(`${NAME}_0001_`))).toBe(true);

    const where = join(scratch.root, "restore-full");
    await measured("restoreFull", () => bacula.runRestore([fullJob], where));
    expect(diffManifests(fullManifest, hashTree(join(where, dataDir)))).toEqual(
      [],
    );
    expect(changerLogLines(logFile, "error")).toEqual([]);
  }, 300_000);

  test("after a disk swap, refresh alone lets an Incremental land on disk B; after swapping back, A restores", async () => {
    // New and changed files for the Incremental, with their own manifest.
    generateTree(join(dataDir, "added"), 40 * 1000 * 1000);
    const changed = [...fullManifest.keys()].slice(0, 2);
    for (const rel of changed)
      writeFileSync(join(dataDir, rel), `changed ${rel} ${Date.now()}\n`);
    const all = hashTree(dataDir);
    const incrManifest = new Map(
      [...all].filter(([p, sum]) => fullManifest.get(p) !== sum),
    );

    await removeDisk();
    await insertDisk("B");
    await magchangerOk(["refresh", "-c", conf], 180_000); // what udev would run
    const vols = await bacula.volumes();
    const onB = vols.filter((v) => v.name.startsWith(`${NAME}_0002_`));
    expect(onB.map((v) => [v.name, v.slot, v.inChanger])).toEqual(
      Array.from({ length: 4 }, (_, i) => [
        `${NAME}_0002_000${i + 1}`,
        9 + i,
        true,
      ]),
    );
    expect(
      vols.filter((v) => v.name.startsWith(`${NAME}_0001_`) && v.inChanger),
    ).toEqual([]);

    const incr = await measured("incremental", () =>
      bacula.runBackup("Incremental"),
    );
    const fi = figures.incremental as JobFigures;
    expect(fi.volumes.length).toBeGreaterThan(0);
    expect(fi.volumes.every((v) => v.startsWith(`${NAME}_0002_`))).toBe(true);
    const whereIncr = join(scratch.root, "restore-incremental");
    await measured("restoreIncremental", () =>
      bacula.runRestore([incr.result.jobid], whereIncr),
    );
    expect(
      diffManifests(incrManifest, hashTree(join(whereIncr, dataDir))),
    ).toEqual([]);

    await removeDisk();
    await insertDisk("A");
    await magchangerOk(["refresh", "-c", conf], 180_000);
    const back = await bacula.volumes();
    expect(
      back
        .filter((v) => v.name.startsWith(`${NAME}_0001_`))
        .map((v) => [v.slot, v.inChanger]),
    ).toEqual(Array.from({ length: 8 }, (_, i) => [i + 1, true]));
    const whereFull = join(scratch.root, "restore-full-again");
    await measured("restoreFullAfterSwap", () =>
      bacula.runRestore([fullJob], whereFull),
    );
    expect(
      diffManifests(fullManifest, hashTree(join(whereFull, dataDir))),
    ).toEqual([]);
    expect(changerLogLines(logFile, "error")).toEqual([]);
  }, 600_000);
});
