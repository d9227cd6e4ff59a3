// `npm run demo -- --real`: the demo against the real thing, as root. A Bacula 9.6 Director
// (sqlite3), storage daemon (as bacula:tape) and file daemon on 127.0.0.1 from the e2e harness,
// two ext4 disks on loop devices as the magazines of one bay, the compiled magchanger as the
// Changer Command: label, back up, swap, restore, verify by sha256, printing each step and its
// figures. Everything it makes (loop devices, mounts, daemons, temp dirs) is removed at the end,
// on failure, on Ctrl-C, and by the harness's watchdog if this process is killed.
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { diffManifests, generateTree, hashTree } from "../e2e/bacula/files.ts";
import {
  type BaculaHarness,
  resolveUser,
  startBacula,
} from "../e2e/bacula/harness.ts";
import {
  type Disk,
  magchangerBinary,
  magchangerOk,
  makeDisk,
} from "../e2e/bacula/magchanger.ts";
import { Scratch } from "../e2e/bacula/scratch.ts";
import { prerequisites } from "./install.ts";

const NAME = "usbchanger1";
const DATA_BYTES = 40 * 1000 * 1000;
/** 16M = 16.8 MB in Bacula: the Full spans three volumes of disk A. */
const VOLUME_BYTES = "16M";

const step = (text: string) => console.log(`\n==> ${text}`);
const show = (text: string) =>
  console.log(text.trimEnd().replace(/^/gm, "    "));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Runs the demo; returns the exit status. */
export async function realDemo(args: string[]): Promise<number> {
  if (!(await prerequisites(args))) return 2;
  const scratch = Scratch.create("demo");
  // binaryForUsers links the binary below this root, where the bacula user can run it.
  process.env.MAGCHANGER_TEST_ROOT = join(scratch.root, "bin");
  let bacula: BaculaHarness | undefined;
  let removed = false;
  let interrupted: string | undefined;
  const cleanup = async () => {
    if (removed) return;
    removed = true;
    await bacula?.stop();
    await scratch.cleanup();
    console.log(
      `\n==> removed everything: daemons, mounts, loop devices, ${scratch.root}`,
    );
  };
  const stop = (signal: string) => {
    interrupted = signal;
    console.log(`\n==> ${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await scenario(scratch, (b) => {
      bacula = b;
    });
    return 0;
  } catch (error) {
    if (interrupted) return 130;
    console.error(
      `\ndemo --real failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  } finally {
    await cleanup();
  }
}

/** What the steps share: the paths, the two disks in and out of the bay, magchanger's runner. */
interface Demo {
  root: string;
  conf: string;
  data: string;
  insert: (d: "A" | "B") => Promise<void>;
  pull: () => Promise<void>;
  mc: (...args: string[]) => Promise<void>;
}

async function scenario(
  scratch: Scratch,
  started: (b: BaculaHarness) => void,
): Promise<void> {
  const { demo, bay, work } = await makeDisks(scratch);
  const bacula = await startDemoBacula(demo, bay, work, started);
  await initMagazines(demo);
  await backUpAndRestore(demo, bacula);
}

/** The demo's directories, and step 1: the two disks. */
async function makeDisks(scratch: Scratch) {
  const root = scratch.root;
  const owner = resolveUser("bacula", "tape");
  const bay = join(root, "mnt", NAME, "magazine");
  const work = join(root, "work");
  mkdirSync(bay, { recursive: true });
  for (const d of [work, join(root, "log")]) {
    mkdirSync(d, { mode: 0o755 });
    chownSync(d, owner.uid, owner.gid);
  }
  console.log(`# demo root: ${root}`);

  step(
    "1. two USB disks: ext4 on loop devices, nothing reserved for root (mkfs.ext4 -m 0)",
  );
  const disks: Record<"A" | "B", Disk> = {
    A: await makeDisk(scratch, "diskA", 256, owner),
    B: await makeDisk(scratch, "diskB", 160, owner),
  };
  show(
    `disk A: ${disks.A.device} (256 MiB), disk B: ${disks.B.device} (160 MiB)`,
  );
  const demo: Demo = {
    root,
    conf: join(root, `${NAME}.toml`),
    data: join(root, "data"),
    insert: (d) =>
      scratch.mount(disks[d].device, bay, "rw,nodev,nosuid,noatime"),
    pull: () => scratch.unmount(bay),
    mc: async (...args) => {
      console.log(
        `    $ magchanger ${args.join(" ").replaceAll(root, "$DEMO")}`,
      );
      show(
        (await magchangerOk(args, 300_000)).stdout.replaceAll(root, "$DEMO"),
      );
    },
  };
  return { demo, bay, work };
}

/** Step 2: the daemons, and the changer's config pointing at them. */
async function startDemoBacula(
  demo: Demo,
  bay: string,
  work: string,
  started: (b: BaculaHarness) => void,
): Promise<BaculaHarness> {
  const { root, conf } = demo;
  step(
    "2. a real Bacula on 127.0.0.1: Director (sqlite3), storage daemon as bacula:tape, file daemon",
  );
  const bacula = await startBacula({
    filesetDir: demo.data,
    names: { storage: NAME },
    autochanger: {
      changerCommand: `${magchangerBinary()} changer %c %o %S %a %d`,
      changerDevice: conf,
      drives: [join(work, "drive0"), join(work, "drive1")],
      maximumChangerWait: 60,
    },
    maximumVolumeBytes: VOLUME_BYTES,
    sdUser: "bacula",
    sdGroup: "tape",
  });
  started(bacula);
  const { ports } = bacula.config;
  show(
    `in ${bacula.root}: Director :${ports.dir}, storage daemon :${ports.sd}, file daemon :${ports.fd}; Changer Command = magchanger changer %c %o %S %a %d`,
  );
  writeFileSync(
    conf,
    `name = "${NAME}"\nwork_dir = "${work}"\nlog_file = "${root}/log/${NAME}.log"\nuser = "bacula"\ngroup = "tape"\ndrives = 2\n[[magazine]]\npath = "${bay}"\n[bacula]\nbconsole = "${bacula.bconsolePath}"\nconfig = "${bacula.bconsoleConfPath}"\nstorage = "${NAME}"\npool = "${bacula.names.pool}"\ndrive = 0\n`,
    { mode: 0o644 },
  );
  return bacula;
}

/** Step 3: each disk becomes a magazine of the one bay. */
async function initMagazines(demo: Demo): Promise<void> {
  step("3. each disk becomes a magazine of the one bay");
  for (const [d, n] of [
    ["A", "6"],
    ["B", "4"],
  ] as const) {
    await demo.insert(d);
    await demo.mc("magazine", "init", "-c", demo.conf, "1", "--volumes", n);
    await demo.pull();
  }
}

/** Steps 4 to 9: label, a Full, a swap and an Incremental, a swap back and a verified restore. */
async function backUpAndRestore(
  demo: Demo,
  bacula: BaculaHarness,
): Promise<void> {
  const { conf, data, insert, pull, mc } = demo;
  step(
    "4. disk A is in: refresh tells Bacula (update slots) and labels its blank volumes (label barcodes)",
  );
  await insert("A");
  await mc("refresh", "-c", conf);
  await volumes(bacula);

  step(
    `5. a Full backup of ${mb(DATA_BYTES)} (volumes of ${VOLUME_BYTES}: it spans several, loaded by the changer)`,
  );
  const made = generateTree(data, DATA_BYTES);
  const fullManifest = hashTree(data);
  show(`${made.files} files, ${mb(made.bytes)}`);
  const full = await job(bacula, () => bacula.runBackup("Full"));

  step(
    "6. swap: disk A out, disk B in; refresh is the only step that tells Bacula",
  );
  await pull();
  await insert("B");
  await mc("refresh", "-c", conf);
  await volumes(bacula);

  step("7. an Incremental of what changed lands on disk B");
  generateTree(join(data, "added"), 5 * 1000 * 1000);
  await job(bacula, () => bacula.runBackup("Incremental"));

  step("8. swap back to disk A and restore the Full");
  await pull();
  await insert("A");
  await mc("refresh", "-c", conf);
  const where = join(demo.root, "restore");
  await job(bacula, () => bacula.runRestore([full], where));

  step(
    "9. verify: every restored file against the sha256 taken before the backup",
  );
  const problems = diffManifests(fullManifest, hashTree(join(where, data)));
  if (problems.length)
    throw new Error(`restore differs:\n${problems.slice(0, 20).join("\n")}`);
  show(
    `restore verified: ${fullManifest.size} files (${mb(made.bytes)}) equal by sha256`,
  );
  await pull();
}

/** Runs a job to its end and prints its figures; returns its JobId. */
async function job(
  bacula: BaculaHarness,
  start: () => Promise<number>,
): Promise<number> {
  const t0 = performance.now();
  const result = await bacula.waitJob(await start(), { timeoutMs: 600_000 });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const log = (await bacula.jobLog(result.jobid)).join("\n");
  if (!result.ok)
    throw new Error(
      `job ${result.jobid} ended ${result.statusText}:\n${log.slice(-3000)}`,
    );
  const field = (name: string) =>
    new RegExp(`${name}:\\s+(.*)`).exec(log)?.[1]?.trim() ?? "?";
  const loads = log.split('3304 Issuing autochanger "load').length - 1;
  const restore = /Restore/.test(field("Termination"));
  const [files, bytes] = restore
    ? [field("Files Restored"), field("Bytes Restored")]
    : [field("FD Files Written"), field("SD Bytes Written")];
  const volumes = restore
    ? ""
    : `, on ${field("Volume name\\(s\\)").replaceAll("|", " ")}`;
  show(
    `job ${result.jobid}: ${field("Termination")} in ${seconds} s: ${files} files, ${bytes} bytes${volumes}; ${loads} changer loads`,
  );
  return result.jobid;
}

async function volumes(bacula: BaculaHarness): Promise<void> {
  const inChanger = (await bacula.volumes()).filter((v) => v.inChanger);
  show(
    `Bacula's catalog, in the changer now: ${inChanger.map((v) => `${v.name} (slot ${v.slot}, ${v.status})`).join(", ") || "none"}`,
  );
}
