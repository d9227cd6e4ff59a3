// What the storage daemon says about its drives: `status storage=S` through bconsole, parsed
// (Bacula 9.6.7 wording, captured from a real SD: test/bacula/fixtures/sd-status-*.txt, made by
// test/e2e/bacula/capture-sd-status.ts). Read only outside the changer lock: the Director asks
// the SD, and an SD waiting on this changer would deadlock against a lock we held.
import { quoteName, runBconsole } from "./bconsole.ts";
import type { Config } from "../config/schema.ts";
import type { Exec } from "../system/exec.ts";

export type DriveState =
  "idle" | "mounted" | "blocked-mount" | "writing" | "reading" | "unknown";

export interface DriveJob {
  jobid: number;
  name: string;
}

export interface DriveStatus {
  /** Drive index (`Drive N is not loaded`, `... in drive N`, or an Archive Device `.../driveN`). */
  drive: number | null;
  /** The SD's Device name. */
  device: string;
  state: DriveState;
  /** The volume mounted in it, or the one its job reads or writes. */
  volume?: string;
  /** The volume the SD is BLOCKED waiting for (a restore or an append that wants a named one). */
  wantedVolume?: string;
  /**
   * The pool of a wait for any appendable volume (`BLOCKED waiting to create a volume for:` then
   * `Pool: NAME`, seen on 9.6.7 when a backup filled the last volume the changer had).
   */
  wantedPool?: string;
  jobs: DriveJob[];
}

interface RunningJob extends DriveJob {
  mode: "reading" | "writing";
  volume: string;
  device: string;
}

/** A job under "Running Jobs:": `Writing: Full Backup job NAME JobId=N Volume="V"`, then `pool="P" device="DEV" (...)`. */
const JOB_LINE =
  /^(Writing|Reading):\s+.*?\bjob (\S+) JobId=(\d+) Volume="([^"]*)"/;
const JOB_DEVICE = /^\s+pool="[^"]*" device="([^"]*)"/;
/** A device block: `Device File: "NAME" (ARCHIVE DEVICE) is ...`, ended by `==`. */
const DEVICE_LINE =
  /^Device [^:"]+?(?:: | is )"([^"]*)" \((.*)\) (?:is )?(.*)$/;

function runningJobs(lines: string[]): RunningJob[] {
  const jobs: RunningJob[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = JOB_LINE.exec(lines[i] ?? "");
    const device = JOB_DEVICE.exec(lines[i + 1] ?? "")?.[1];
    if (!m || device === undefined) continue;
    jobs.push({
      mode: m[1] === "Reading" ? "reading" : "writing",
      name: m[2] ?? "",
      jobid: Number(m[3]),
      volume: m[4] ?? "",
      device,
    });
  }
  return jobs;
}

interface DeviceBlock {
  device: string;
  archive: string;
  opening: string;
  body: string[];
}

function deviceBlocks(lines: string[]): DeviceBlock[] {
  const blocks: DeviceBlock[] = [];
  let current: DeviceBlock | undefined;
  for (const line of lines) {
    const m = DEVICE_LINE.exec(line);
    if (m) {
      current = {
        device: m[1] ?? "",
        archive: m[2] ?? "",
        opening: m[3] ?? "",
        body: [],
      };
      blocks.push(current);
    } else if (/^==/.test(line)) current = undefined;
    else current?.body.push(line.trim());
  }
  return blocks;
}

function driveIndex(block: DeviceBlock): number | null {
  for (const line of block.body) {
    const m =
      /^(?:Drive (\d+) is not loaded|Slot \d+ (?:is|was last) loaded in drive (\d+))/.exec(
        line,
      );
    if (m) return Number(m[1] ?? m[2]);
  }
  const fromPath = /(?:^|\/)drive(\d+)$/.exec(block.archive)?.[1];
  return fromPath === undefined ? null : Number(fromPath);
}

function deviceState(
  block: DeviceBlock,
  jobs: RunningJob[],
): Pick<DriveStatus, "state" | "volume" | "wantedVolume" | "wantedPool"> {
  const at = block.body.findIndex((l) => l.startsWith("Device is BLOCKED"));
  const blocked = at < 0 ? undefined : block.body[at];
  const mountedVolume = block.opening.startsWith("mounted with")
    ? block.body.map((l) => /^Volume:\s+(\S+)/.exec(l)?.[1]).find(Boolean)
    : undefined;
  const jobVolume = jobs.map((j) => j.volume).find(Boolean);
  const volume = mountedVolume ?? jobVolume;
  const withVolume = volume ? { volume } : {};
  if (blocked) {
    const wanted = /waiting for mount of volume "([^"]*)"/.exec(blocked)?.[1];
    // "waiting for mount of volume" (a named one) or "waiting to create a volume" / "for media"
    // (any appendable one). "User unmounted" is an operator's doing: never ours to undo.
    if (
      /BLOCKED waiting (?:for mount|to create|for media|for appendable)/.test(
        blocked,
      )
    ) {
      // The pool follows on the next lines (`Pool:        NAME`; a name may hold spaces).
      const pool = wanted
        ? undefined
        : block.body
            .slice(at + 1, at + 3)
            .map((l) => /^Pool:\s+(.+)$/.exec(l)?.[1])
            .find(Boolean);
      return {
        state: "blocked-mount",
        ...withVolume,
        ...(wanted ? { wantedVolume: wanted } : {}),
        ...(pool ? { wantedPool: pool } : {}),
      };
    }
    return { state: "unknown", ...withVolume };
  }
  if (jobs.some((j) => j.mode === "writing"))
    return { state: "writing", ...withVolume };
  if (jobs.some((j) => j.mode === "reading"))
    return { state: "reading", ...withVolume };
  if (mountedVolume) return { state: "mounted", volume: mountedVolume };
  if (/^not open\b/.test(block.opening)) return { state: "idle" };
  return { state: "unknown", ...withVolume };
}

/** Every device of `status storage` output, with what the SD says it does or waits for. */
export function parseStorageStatus(text: string): DriveStatus[] {
  const lines = text.replaceAll("\r", "").split("\n");
  const jobs = runningJobs(lines);
  return deviceBlocks(lines).map((block) => {
    const own = jobs.filter((j) => j.device === block.device);
    return {
      drive: driveIndex(block),
      device: block.device,
      ...deviceState(block, own),
      jobs: own.map(({ jobid, name }) => ({ jobid, name })),
    };
  });
}

/**
 * `status storage=S` for this changer's storage, parsed. Bounded by [bacula] timeout. Call it
 * with the changer lock released (see the file comment).
 */
export async function readStorageStatus(
  config: Config,
  exec: Exec,
): Promise<DriveStatus[]> {
  const storage = quoteName(config.bacula.storage ?? config.name);
  const { output } = await runBconsole(
    config,
    [`status storage=${storage}`],
    exec,
  );
  return parseStorageStatus(output);
}

/** Devices waiting for an operator's mount (what resume may wake). */
export function blockedDrives(status: DriveStatus[]): DriveStatus[] {
  return status.filter((d) => d.state === "blocked-mount");
}
