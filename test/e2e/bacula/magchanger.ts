// The compiled magchanger and the real disks it works on, for the Bacula scenarios.
import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BaculaHarness, startBacula } from "./harness.ts";
import { describeFailure, runTool, type ToolResult } from "./processes.ts";
import type { Scratch } from "./scratch.ts";
import type { Capability } from "../../helpers/capabilities.ts";
import { binaryForUsers } from "../../helpers/run.ts";

/** The compiled binary where the SD's bacula user can run it (see binaryForUsers). */
export const magchangerBinary = binaryForUsers;

/** What the changer scenarios need: the SD runs the changer as bacula:tape on loop disks. */
export const CHANGER_SCENARIO: Capability[] = [
  "bacula",
  "loop",
  "user:bacula",
  "group:tape",
  "exec-as-user",
];

/**
 * A real Bacula whose storage NAME is a two-drive autochanger run by magchanger on conf
 * (WORK_DIR/drive0 and drive1), its SD as bacula:tape: the rotation scenarios' setup.
 */
export function startChangerBacula(o: {
  name: string;
  conf: string;
  workDir: string;
  dataDir: string;
  maximumVolumeBytes: string;
}): Promise<BaculaHarness> {
  return startBacula({
    filesetDir: o.dataDir,
    names: { storage: o.name },
    autochanger: {
      changerCommand: `${magchangerBinary()} changer %c %o %S %a %d`,
      changerDevice: o.conf,
      drives: [join(o.workDir, "drive0"), join(o.workDir, "drive1")],
      maximumChangerWait: 60,
    },
    maximumVolumeBytes: o.maximumVolumeBytes,
    sdUser: "bacula",
    sdGroup: "tape",
  });
}

export async function magchanger(
  args: string[],
  timeoutMs = 120_000,
): Promise<ToolResult> {
  return runTool([magchangerBinary(), ...args], { timeoutMs });
}

/** Runs magchanger and throws with its output unless it exits 0. */
export async function magchangerOk(
  args: string[],
  timeoutMs = 120_000,
): Promise<ToolResult> {
  const r = await magchanger(args, timeoutMs);
  if (r.exitCode !== 0 || r.timedOut)
    throw new Error(`magchanger failed:\n${describeFailure(r)}`);
  return r;
}

export interface Disk {
  label: string;
  image: string;
  device: string;
}

/**
 * A sparse image with ext4 on a loop device, as `magazine init` expects a prepared disk: no
 * blocks reserved for root (`-m 0`: the seed's trap) and its root directory owned by the
 * run-as user (what the seed does with chown after mounting).
 */
export async function makeDisk(
  scratch: Scratch,
  label: string,
  mib: number,
  owner: { uid: number; gid: number },
): Promise<Disk> {
  const image = join(scratch.root, `${label}.img`);
  writeFileSync(image, "");
  truncateSync(image, mib * 1024 * 1024);
  const mkfs = await runTool(
    [
      "mkfs.ext4",
      "-q",
      "-F",
      "-m",
      "0",
      "-b",
      "4096",
      "-L",
      label,
      "-E",
      `root_owner=${owner.uid}:${owner.gid}`,
      "--",
      image,
    ],
    { timeoutMs: 60_000 },
  );
  if (mkfs.exitCode !== 0)
    throw new Error(`mkfs.ext4 failed:\n${describeFailure(mkfs)}`);
  return { label, image, device: await scratch.attachLoop(image) };
}

/**
 * Invocations recorded in the changer log. Every magchanger command that opens a changer logs
 * exactly one "switched to ..." / "running as ..." line at debug level when it starts
 * (src/commands/context.ts), so with log_level = "debug" this counts calls.
 */
export function changerInvocations(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => /\] debug: (switched to |running as )/.test(l)).length;
}

export function changerLogLines(
  logFile: string,
  level: "error" | "warn",
): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => l.includes(`] ${level}: `));
}

/**
 * The changer config the real-Bacula scenarios share (two drives, run as bacula:tape, one bay,
 * the harness's bconsole), with extra TOML appended ([notify], [luks], [tools]).
 */
export function writeChangerToml(o: {
  conf: string;
  name: string;
  workDir: string;
  logFile: string;
  bay: string;
  bacula: {
    bconsolePath: string;
    bconsoleConfPath: string;
    names: { pool: string };
  };
  timeout?: number;
  extra?: string;
}): void {
  writeFileSync(
    o.conf,
    `name = "${o.name}"
work_dir = "${o.workDir}"
log_file = "${o.logFile}"
log_level = "debug"
user = "bacula"
group = "tape"
drives = 2
lock_timeout = 30

[[magazine]]
path = "${o.bay}"

[bacula]
bconsole = "${o.bacula.bconsolePath}"
config = "${o.bacula.bconsoleConfPath}"
storage = "${o.name}"
pool = "${o.bacula.names.pool}"
drive = 0
timeout = ${o.timeout ?? 120}
${o.extra ? `\n${o.extra}` : ""}`,
    { mode: 0o644 },
  );
}
