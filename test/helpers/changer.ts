// A changer for end-to-end tests: a TOML config in a temp dir and helpers that run the compiled
// binary against it the way Bacula's storage daemon does.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type DriveState,
  emptyDriveTarget,
  parseDrives,
} from "../../src/state/drives.ts";
import { parseRegistry, type Registry } from "../../src/state/registry.ts";
import { type RunOptions, type RunResult, runBinary } from "./run.ts";

export interface BaySpec {
  path: string;
  /** A plain directory counts as a magazine (no mount check): fast tests without loop devices. */
  allowUnmounted?: boolean;
}

export interface ChangerSpec {
  name?: string;
  drives?: number;
  bays: BaySpec[];
  /** Run-as user and group; default root:root (no switch when the tests run as root). */
  user?: string;
  group?: string;
  lockTimeout?: number;
  workDir?: string;
  logFile?: string;
  logLevel?: string;
  /** Config file name in dir; default NAME.toml. Several configs may share one changer name. */
  confFile?: string;
}

/** The barcode `magazine init` gives volume `volume` of magazine `magazine`: usbchanger1_0004_0008. */
export function barcode(
  changer: string,
  magazine: number,
  volume: number,
): string {
  return `${changer}_${String(magazine).padStart(4, "0")}_${String(volume).padStart(4, "0")}`;
}

export class TestChanger {
  readonly name: string;
  readonly conf: string;
  readonly workDir: string;
  readonly logFile: string;
  readonly drives: number;

  constructor(
    readonly dir: string,
    readonly spec: ChangerSpec,
  ) {
    this.name = spec.name ?? "tc1";
    this.drives = spec.drives ?? 2;
    this.conf = join(dir, spec.confFile ?? `${this.name}.toml`);
    this.workDir = spec.workDir ?? join(dir, `${this.name}-work`);
    this.logFile = spec.logFile ?? join(dir, `${this.name}.log`);
    const q = JSON.stringify;
    const lines = [
      `name = ${q(this.name)}`,
      `work_dir = ${q(this.workDir)}`,
      `log_file = ${q(this.logFile)}`,
      `log_level = ${q(spec.logLevel ?? "info")}`,
      `user = ${q(spec.user ?? "root")}`,
      `group = ${q(spec.group ?? "root")}`,
      `drives = ${this.drives}`,
      `lock_timeout = ${spec.lockTimeout ?? 60}`,
    ];
    for (const bay of spec.bays) {
      lines.push("[[magazine]]", `path = ${q(bay.path)}`);
      if (bay.allowUnmounted) lines.push("allow_unmounted = true");
    }
    writeFileSync(this.conf, `${lines.join("\n")}\n`);
  }

  /** `magchanger changer CONF ARGS...` */
  run(args: string[], options?: RunOptions): Promise<RunResult> {
    return runBinary(["changer", this.conf, ...args], options);
  }

  /** As the storage daemon calls it: `changer %c %o %S %a %d`. */
  sd(
    command: string,
    slot: number,
    drive: number,
    options?: RunOptions,
  ): Promise<RunResult> {
    return this.run(
      [command, String(slot), this.driveLink(drive), String(drive)],
      options,
    );
  }

  /** The Archive Device of a drive. */
  driveLink(drive: number): string {
    return join(this.workDir, `drive${drive}`);
  }

  /** `magazine init` of a bay; returns the barcodes it created. Throws when it fails. */
  async init(
    bay: number,
    volumes: number,
    extra: string[] = [],
  ): Promise<string[]> {
    const result = await runBinary([
      "magazine",
      "init",
      "-c",
      this.conf,
      String(bay),
      "--volumes",
      String(volumes),
      ...extra,
    ]);
    if (result.exitCode !== 0)
      throw new Error(
        `magazine init ${bay} failed (${result.exitCode}): ${result.stderr}`,
      );
    const number = /^magazine (\d+) /.exec(result.stdout)?.[1];
    if (!number)
      throw new Error(
        `magazine init printed no magazine number: ${result.stdout}`,
      );
    return Array.from({ length: volumes }, (_, i) =>
      barcode(this.name, Number(number), i + 1),
    );
  }

  /** `magazine createvols`: returns its result unchecked. */
  createvols(bay: number, count: number): Promise<RunResult> {
    return runBinary([
      "magazine",
      "createvols",
      "-c",
      this.conf,
      String(bay),
      String(count),
    ]);
  }

  readDrives(): DriveState {
    const path = join(this.workDir, "drives.json");
    return parseDrives(readFileSync(path, "utf8"), path);
  }

  readRegistry(): Registry {
    const path = join(this.workDir, "slots");
    return parseRegistry(readFileSync(path, "utf8"), path);
  }

  emptyTarget(drive: number): string {
    return emptyDriveTarget(drive);
  }
}

/** `list` output for slots 1..count, from a slot -> barcode map (absent = empty slot). */
export function listOutput(
  count: number,
  slots: Record<number, string>,
): string {
  let out = "";
  for (let slot = 1; slot <= count; slot++)
    out += `${slot}:${slots[slot] ?? ""}\n`;
  return out;
}

/** Slot -> barcode map for barcodes in slots first..first+n-1. */
export function slotsOf(barcodes: string[], first = 1): Record<number, string> {
  const slots: Record<number, string> = {};
  barcodes.forEach((b, i) => {
    slots[first + i] = b;
  });
  return slots;
}
