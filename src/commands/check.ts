// `magchanger check -c CONF [thresholds] [-t SECONDS] [--local]`: a Nagios/Icinga plugin. One
// status line with performance data, a line per magazine, exit 0/1/2/3 for OK, WARNING, CRITICAL
// and UNKNOWN; every failure, a wrong command line included, answers on stdout too.
import {
  CRITICAL,
  type CheckThresholds,
  evaluateCheck,
  failedCheck,
  type SpaceLimit,
  UNKNOWN,
} from "../bacula/nagios.ts";
import { monitorFacts } from "../bacula/monitor.ts";
import { AppError, PluginAnswer, UsageError } from "../errors.ts";
import { CONFIG_OPTION, defineCommand } from "./cli.ts";
import { writeText } from "../system/fd-write.ts";
import { openChanger } from "./context.ts";

export interface CheckOptions {
  config: string;
  thresholds: CheckThresholds;
  timeoutSeconds: number;
  local: boolean;
}

export async function runCheck(opts: CheckOptions): Promise<void> {
  const ctx = openChanger(opts.config);
  const facts = await monitorFacts(ctx, {
    askStorage: !opts.local,
    timeoutSeconds: opts.timeoutSeconds,
  });
  const result = evaluateCheck(facts, opts.thresholds);
  if (result.state === 0) writeText(1, result.output);
  else throw new PluginAnswer(result.output, result.state);
}

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/** "10%", "500M", "2G", "1048576": a percentage of the usable space, or bytes (K, M, G, T: 1024^n). */
export function parseSpaceLimit(option: string, value: string): SpaceLimit {
  const m = /^(\d+(?:\.\d+)?)\s*(%|[KMGT](?:i?B)?|B)?$/i.exec(value.trim());
  const number = Number(m?.[1]);
  const unit = (m?.[2] ?? "").toUpperCase();
  if (!m || (unit === "%" && number > 100))
    throw new UsageError(
      `check: --${option} ${JSON.stringify(value.slice(0, 40))}: give a percentage of the disk (10%) or a size (500M, 2G, bytes)`,
    );
  if (unit === "%") return { percent: number };
  return { bytes: Math.floor(number * (UNITS[unit.charAt(0)] ?? 1)) };
}

function parseMinutes(option: string, value: string): number {
  if (!/^\d+(?:\.\d+)?$/.test(value))
    throw new UsageError(
      `check: --${option} ${JSON.stringify(value.slice(0, 40))}: give minutes, e.g. 30`,
    );
  return Number(value);
}

/** Every failure is the plugin's answer: CRITICAL for a corrupt state file (the changer stops), else UNKNOWN. */
export function checkFailure(error: unknown): unknown {
  if (error instanceof PluginAnswer) return error;
  const message =
    error instanceof AppError
      ? error.message
      : `internal error: ${(error as Error)?.message ?? String(error)}`.split(
          "\n",
        )[0];
  const state =
    error instanceof AppError && error.exitCode === 6 ? CRITICAL : UNKNOWN;
  const answer = failedCheck(state, message ?? "");
  return new PluginAnswer(answer.output, answer.state);
}

export const command = defineCommand({
  name: "check",
  summary:
    "Check the changer for Nagios or Icinga: one status line with performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; it mounts no disk.",
  options: {
    config: CONFIG_OPTION,
    "free-warning": {
      type: "string",
      value: "SIZE",
      description:
        "WARNING when an attached magazine has less free space: a percentage of what the run-as user may fill, or a size such as 50G",
      default: "10%",
    },
    "free-critical": {
      type: "string",
      value: "SIZE",
      description: "CRITICAL below this free space",
      default: "5%",
    },
    "refresh-warning": {
      type: "string",
      value: "MINUTES",
      description:
        "WARNING when a Bacula update (refresh) has been pending this long",
      default: "30",
    },
    "refresh-critical": {
      type: "string",
      value: "MINUTES",
      description: "CRITICAL when it has been pending this long",
      default: "1440",
    },
    "events-warning": {
      type: "string",
      value: "MINUTES",
      description:
        "WARNING when, with a [notify] command set, an event has waited this long to be delivered",
      default: "30",
    },
    timeout: {
      type: "string",
      short: "t",
      value: "SECONDS",
      description:
        "the longest bconsole may take (at most [bacula] timeout); then UNKNOWN, unless worse is known",
      default: "10",
    },
    local: {
      type: "boolean",
      description:
        "do not ask the storage daemon (no bconsole): waiting jobs are not checked",
    },
  },
  description: [
    "CRITICAL: a job stands still until someone acts: it waits for a volume on a disk in the drawer, for a volume of no magazine, or for any appendable volume (no disk in a bay has room or a volume left); no magazine is attached; an attached magazine has less free space than --free-critical; a Bacula update has been pending longer than --refresh-critical; a state file is corrupt.",
    "WARNING: a job waits for a volume on an attached disk (the next refresh lets it go on); free space under --free-warning; a Bacula update pending longer than --refresh-warning, or none ever made; with [notify] set, an event undelivered for longer than --events-warning; a magazine past a [rotation] limit (in its bay max_days_attached days or more, in the drawer max_days_absent days or more).",
    "UNKNOWN: a wrong command line, the config cannot be read, the run-as user cannot be switched to, a state file cannot be read, or the storage daemon cannot be asked (when nothing worse is known).",
    "It reads the work dir (no lock, nothing written) and asks the storage daemon once (status storage, bounded by --timeout). Free space is measured only for a disk whose filesystem is mounted now (or a plain directory): an autofs disk that autofs has unmounted is not mounted again for it; its free space is U. Performance data: volumes, attached_magazines, queued_events, waiting_jobs, magazine_N_free (bytes, with the thresholds), magazine_N_days_attached and magazine_N_days_absent (with [rotation]'s limit as the warning threshold).",
    "As root it switches to the run-as user, like every command; NRPE and Icinga agents usually run it through sudo, with a sudoers line that names the exact command (thresholds included):",
    "  nagios ALL=(root) NOPASSWD: /usr/local/bin/magchanger check -c /etc/magchanger/usbchanger1.toml",
  ],
  exitStatus: [
    [0, "OK"],
    [1, "WARNING"],
    [2, "CRITICAL"],
    [3, "UNKNOWN (also for a wrong command line)"],
  ],
  mapError: checkFailure,
  run: ({ options }) =>
    runCheck({
      config: options.config,
      thresholds: {
        freeWarning: parseSpaceLimit("free-warning", options["free-warning"]),
        freeCritical: parseSpaceLimit(
          "free-critical",
          options["free-critical"],
        ),
        refreshWarningMinutes: parseMinutes(
          "refresh-warning",
          options["refresh-warning"],
        ),
        refreshCriticalMinutes: parseMinutes(
          "refresh-critical",
          options["refresh-critical"],
        ),
        eventsWarningMinutes: parseMinutes(
          "events-warning",
          options["events-warning"],
        ),
      },
      timeoutSeconds: parseTimeout(options.timeout),
      local: options.local,
    }),
});

function parseTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value) || seconds <= 0)
    throw new UsageError(
      `check: --timeout ${JSON.stringify(value.slice(0, 40))}: give seconds > 0, e.g. 10`,
    );
  return seconds;
}
