// The world the drawer-volume, space-needed and resume scenarios share: one bay of a changer as
// the Changer Command of a real Bacula (two drives, run as bacula:tape), a work dir and log dir the
// run-as user owns, data to back up, and a recording notifier as [notify]. Delivery runs the
// notifier as the run-as user (refresh drops to bacula:tape before it reads the work dir): the
// script and its dir stay root's, only the record is bacula's to append to.
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateTree } from "./files.ts";
import { type BaculaHarness, resolveUser } from "./harness.ts";
import {
  changerLogLines,
  startChangerBacula,
  writeChangerToml,
} from "./magchanger.ts";
import type { Scratch } from "./scratch.ts";

export interface OneBay {
  bacula: BaculaHarness;
  conf: string;
  logFile: string;
  workDir: string;
  bay: string;
  dataDir: string;
  /** What the notifier appends to, one line per event. */
  recordFile: string;
  /** The run-as user, who owns the disks' root directories. */
  owner: { uid: number; gid: number };
}

export async function startOneBay(
  scratch: Scratch,
  o: {
    name: string;
    volumeBytes: string;
    /** The notifier script: appends one line per event to $1. */
    notifier: string;
    /** The data to back up: bytes of files below dataDir/sub. */
    data: { sub: string; bytes: number };
  },
): Promise<OneBay> {
  const root = scratch.root;
  const owner = resolveUser("bacula", "tape");
  const bay = join(root, "bay");
  const dataDir = join(root, "data");
  const workDir = join(root, "work");
  const logFile = join(root, "log", `${o.name}.log`);
  for (const d of [bay, workDir, join(root, "log")])
    mkdirSync(d, { mode: 0o755 });
  chownSync(workDir, owner.uid, owner.gid);
  chownSync(join(root, "log"), owner.uid, owner.gid);
  const notifyDir = join(root, "notify");
  mkdirSync(notifyDir, { mode: 0o755 });
  const notifier = join(notifyDir, "notifier.sh");
  writeFileSync(notifier, o.notifier, { mode: 0o755 });
  const recordFile = join(notifyDir, "record");
  writeFileSync(recordFile, "", { mode: 0o600 });
  chownSync(recordFile, owner.uid, owner.gid);
  generateTree(join(dataDir, o.data.sub), o.data.bytes);
  const conf = join(root, `${o.name}.toml`);
  const bacula = await startChangerBacula({
    name: o.name,
    conf,
    workDir,
    dataDir,
    maximumVolumeBytes: o.volumeBytes,
  });
  writeChangerToml({
    conf,
    name: o.name,
    workDir,
    logFile,
    bay,
    bacula,
    extra: `[notify]\ncommand = ["${notifier}", "${recordFile}"]\n`,
  });
  return { bacula, conf, logFile, workDir, bay, dataDir, recordFile, owner };
}

/** afterAll: the changer log's warnings shown, Bacula stopped, the scratch dir removed. */
export async function stopOneBay(
  world: OneBay | undefined,
  scratch: Scratch | undefined,
): Promise<void> {
  const warnings = world ? changerLogLines(world.logFile, "warn") : [];
  if (warnings.length > 0)
    console.info(`changer log warnings:\n${warnings.join("\n")}`);
  await world?.bacula.stop();
  await scratch?.cleanup();
}
