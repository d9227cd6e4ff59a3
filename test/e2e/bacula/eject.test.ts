// `magchanger eject` against a real Bacula 9.6.7 and a real ext4 loop mount: refused (exit 10,
// naming the job, nothing changed) while a restore reads a volume of the disk, refused by the
// kernel while a process holds a file open there, and after that the disk is unloaded from its
// drive, unmounted, its LUKS mapping closed and Bacula's slots updated.
// Real: Bacula's daemons (the SD runs the compiled changer as bacula:tape), ext4 on a loop
// device, mount/umount, `status storage` through bconsole. Faked because this kernel has no
// device-mapper: the mapping itself. The disk is mounted through /dev/mapper/NAME, a link to the
// loop device made by the test (mount -c keeps that source in mountinfo, as a real dm mount has
// it), and cryptsetup is test/unlock/fakes.ts's fake, which records `close` and drops its mapping.
// To hold a restore in "Reading" the test stops the file daemon (SIGSTOP) once the SD has the
// volume open: the SD then blocks on its socket with the volume open, exactly a slow restore.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseStorageStatus } from "../../../src/bacula/sd-status.ts";
import { skipUnless } from "../../helpers/capabilities.ts";
import { createFakeTools, type FakeTools } from "../../unlock/fakes.ts";
import { diffManifests, generateTree, hashTree } from "./files.ts";
import { type BaculaHarness, resolveUser } from "./harness.ts";
import {
  CHANGER_SCENARIO,
  type Disk,
  magchanger,
  startChangerBacula,
  magchangerOk,
  makeDisk,
  writeChangerToml,
} from "./magchanger.ts";
import { runTool } from "./processes.ts";
import { Scratch } from "./scratch.ts";

const SUITE =
  "eject: a disk in use by a real Bacula is refused, then made safe to unplug";
const NAME = "mcej";
const MAPPER = `mcej-test-${process.pid}`;
const MAPPER_LINK = `/dev/mapper/${MAPPER}`;

function mountedAt(dir: string): string | undefined {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f[4] === dir) return line.split(" - ")[1]?.split(" ")[1];
  }
  return undefined;
}

/** Whether process pid has a file below dir open (read through /proc, no stat of dir). */
function holdsFileBelow(pid: number, dir: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${dir}/`);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

describe.skipIf(skipUnless([...CHANGER_SCENARIO, "root"], SUITE))(SUITE, () => {
  let scratch: Scratch;
  let bacula: BaculaHarness;
  let fakes: FakeTools;
  let disk: Disk;
  let conf = "";
  let bay = "";
  let dataDir = "";
  let madeMapperDir = false;
  let backupJob = 0;
  let manifest = new Map<string, string>();
  let stoppedFd: number | undefined;
  const slotsLoaded = async () =>
    Promise.all(
      [0, 1].map(async (d) =>
        (
          await magchangerOk([
            "changer",
            conf,
            "loaded",
            "0",
            join(scratch.root, "work", `drive${d}`),
            String(d),
          ])
        ).stdout.trim(),
      ),
    );

  beforeAll(async () => {
    scratch = Scratch.create("eject");
    const root = scratch.root;
    const bu = resolveUser("bacula", "tape");
    bay = join(root, "bay");
    dataDir = join(root, "data");
    const workDir = join(root, "work");
    const logDir = join(root, "log");
    for (const d of [bay, workDir, logDir]) mkdirSync(d, { mode: 0o755 });
    chownSync(workDir, bu.uid, bu.gid);
    chownSync(logDir, bu.uid, bu.gid);
    generateTree(dataDir, 100 * 1000 * 1000);
    manifest = hashTree(dataDir);
    fakes = createFakeTools(join(root, "fakes"));
    conf = join(root, `${NAME}.toml`);
    bacula = await startChangerBacula({
      name: NAME,
      conf,
      workDir,
      dataDir,
      maximumVolumeBytes: "200M",
    });
    writeChangerToml({
      conf,
      name: NAME,
      workDir,
      logFile: join(logDir, "c.log"),
      bay,
      bacula,
      timeout: 60,
      extra: `[luks]
mapper = "${MAPPER}"

[tools]
cryptsetup = "${fakes.cryptsetup}"
`,
    });
    disk = await makeDisk(scratch, "mcejA", 400, bu);
    if (!existsSync("/dev/mapper")) {
      mkdirSync("/dev/mapper", { mode: 0o755 });
      madeMapperDir = true;
    }
    symlinkSync(disk.device, MAPPER_LINK);
    fakes.setMapping(MAPPER, disk.device);
    const m = await runTool(
      ["mount", "-c", "-o", "rw,nodev,nosuid,noatime", "--", MAPPER_LINK, bay],
      { timeoutMs: 30_000 },
    );
    if (m.exitCode !== 0) throw new Error(`mount failed: ${m.stderr}`);
    await magchangerOk([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "2",
      "--name",
      "Thursday",
    ]);
    await bacula.labelBarcodes();
    const backup = await bacula.waitJob(await bacula.runBackup("Full"), {
      timeoutMs: 120_000,
    });
    expect(backup.ok).toBe(true);
    backupJob = backup.jobid;
  }, 240_000);

  afterAll(async () => {
    if (stoppedFd !== undefined) process.kill(stoppedFd, "SIGCONT");
    await bacula?.stop();
    if (bay && mountedAt(bay))
      await runTool(["umount", "--", bay], { timeoutMs: 30_000 });
    rmSync(MAPPER_LINK, { force: true });
    if (madeMapperDir) rmdirSync("/dev/mapper");
    await scratch?.cleanup();
  });

  test("refused with exit 10 naming the restore that reads the disk; nothing changes; the restore then finishes and verifies", async () => {
    const fd = bacula.daemons.find((d) => d.name === "fd")?.pid as number;
    const sd = bacula.daemons.find((d) => d.name === "sd")?.pid as number;
    const where = join(scratch.root, "restored");
    const restore = await bacula.runRestore([backupJob], where);
    for (let i = 0; i < 20_000 && !holdsFileBelow(sd, bay); i++)
      await Bun.sleep(5);
    process.kill(fd, "SIGSTOP");
    stoppedFd = fd;
    expect(holdsFileBelow(sd, bay)).toBe(true);
    // What eject reads: the real SD's words for a device that a restore reads from.
    const status = await bacula.bconsole(`status storage="${NAME}"`);
    if (process.env.MAGCHANGER_CAPTURE_FIXTURES)
      writeFileSync(
        join(
          import.meta.dir,
          "../../bacula/fixtures/sd-status-reading-mounted.txt",
        ),
        status,
      );
    expect(
      parseStorageStatus(status)
        .filter((d) => d.state !== "idle")
        .map((d) => [d.state, d.volume?.startsWith(`${NAME}_0001_`), d.jobs]),
    ).toEqual([
      ["reading", true, [{ jobid: restore, name: bacula.names.restoreJob }]],
    ]);
    const refused = await magchanger(["eject", "-c", conf, "1"]);
    expect(refused.exitCode).toBe(10);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(
      new RegExp(
        `^magchanger: magazine 1 "Thursday" \\(label mcejA, UUID [0-9a-f-]+\\) is in use: job ${bacula.names.restoreJob} \\(JobId ${restore}\\) is reading volume ${NAME}_0001_000[12] on drive [01]; nothing was changed: eject it when the job ends \\(or pass --wait SECONDS\\)\\n$`,
      ),
    );
    expect(mountedAt(bay)).toBe(MAPPER_LINK);
    expect(fakes.calls().filter((c) => c[0] === "cryptsetup")).toEqual([]);

    process.kill(fd, "SIGCONT");
    stoppedFd = undefined;
    const done = await bacula.waitJob(restore, { timeoutMs: 120_000 });
    expect(done.ok).toBe(true);
    expect(diffManifests(manifest, hashTree(join(where, dataDir)))).toEqual([]);
    // The restore left its volume in a drive (the SD does not unload after a job).
    expect((await slotsLoaded()).some((slot) => slot !== "0")).toBe(true);
  }, 180_000);

  test("refused with exit 10 while a process holds a file open on the disk (the kernel's word), mount kept", async () => {
    const holder = Bun.spawn(["sleep", "600"], {
      cwd: bay,
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      const refused = await magchanger(["eject", "-c", conf, "1"]);
      expect(refused.exitCode).toBe(10);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^magchanger: cannot unmount ${bay}: magazine 1 "Thursday" \\(label mcejA, UUID [0-9a-f-]+\\) is in use \\(.*busy.*\\); see \`fuser -vm ${bay}\`, then retry\\n$`,
        ),
      );
      expect(mountedAt(bay)).toBe(MAPPER_LINK);
      expect(fakes.mapping(MAPPER)).toBe(disk.device);
    } finally {
      holder.kill("SIGKILL");
      await holder.exited;
    }
  }, 120_000);

  test("--wait: eject waits for a restore to end, then unloads, unmounts, closes the mapping, updates Bacula's slots: `safe to unplug`", async () => {
    const pullLine = async () =>
      (await magchanger(["doctor", "-c", conf])).stdout
        .split("\n")
        .find((l) => l.includes("pull bay 1"));
    expect(await pullLine()).toContain(
      `not safe to pull: ${MAPPER_LINK} is mounted at ${bay}; run \`magchanger eject -c ${conf} 1\` first`,
    );
    const statusPull = async () =>
      JSON.parse((await magchangerOk(["status", "-c", conf, "--json"])).stdout)
        .pull;
    expect(await statusPull()).toMatchObject([{ bay: 1, safe: false }]);
    // A restore held reading again (its FD stopped) while eject --wait runs.
    const fd = bacula.daemons.find((d) => d.name === "fd")?.pid as number;
    const sd = bacula.daemons.find((d) => d.name === "sd")?.pid as number;
    const restore = await bacula.runRestore(
      [backupJob],
      join(scratch.root, "restored2"),
    );
    for (let i = 0; i < 20_000 && !holdsFileBelow(sd, bay); i++)
      await Bun.sleep(5);
    process.kill(fd, "SIGSTOP");
    stoppedFd = fd;
    const waiting = magchanger(
      ["eject", "-c", conf, "thursday", "--wait", "120"],
      180_000,
    );
    const log = join(scratch.root, "log", "c.log");
    const waitLine = `eject: waiting for job ${bacula.names.restoreJob} (JobId ${restore}) is reading`;
    const logged = () =>
      existsSync(log) && readFileSync(log, "utf8").includes(waitLine);
    for (let i = 0; i < 6000 && !logged(); i++) await Bun.sleep(10);
    expect(logged()).toBe(true);
    expect(mountedAt(bay)).toBe(MAPPER_LINK);
    process.kill(fd, "SIGCONT");
    stoppedFd = undefined;
    const ejected = await waiting;
    expect((await bacula.waitJob(restore, { timeoutMs: 120_000 })).ok).toBe(
      true,
    );
    expect(ejected.stderr).toBe("");
    expect(ejected.exitCode).toBe(0);
    const lines = ejected.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^Bacula updated \(.*\): update slots storage="mcej" drive=0/,
    );
    expect(lines.at(-1)).toMatch(/^safe to unplug "Thursday"$/);
    expect(mountedAt(bay)).toBeUndefined();
    expect(fakes.mapping(MAPPER)).toBeUndefined();
    expect(fakes.calls().filter((c) => c[0] === "cryptsetup")).toEqual([
      ["cryptsetup", "close", "--", MAPPER],
    ]);
    const vols = await bacula.volumes();
    expect(
      vols
        .filter((v) => v.name.startsWith(`${NAME}_0001_`))
        .map((v) => [v.name, v.inChanger]),
    ).toEqual([
      [`${NAME}_0001_0001`, false],
      [`${NAME}_0001_0002`, false],
    ]);
    expect(await slotsLoaded()).toEqual(["0", "0"]);
    expect(await pullLine()).toContain("nothing is mounted: safe to pull");
    expect(await statusPull()).toEqual([
      { bay: 1, safe: true, text: "nothing is mounted: safe to pull" },
    ]);
    // Ejecting an empty bay is a no-op that says so.
    const again = await magchanger(["eject", "-c", conf]);
    expect(again).toMatchObject({
      exitCode: 0,
      stdout: `nothing is mounted in bay 1 (${bay}): safe to unplug\n`,
      stderr: "",
    });
  }, 120_000);
});
