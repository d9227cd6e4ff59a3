// `magchanger status -c CONF [--json | --prometheus FILE]`: bays, drawer, drives and what Bacula
// waits for; or the metrics for node_exporter's textfile collector, gathered without a bay scan.
import {
  metricsText,
  writeMetrics,
  writeMetricsAsRoot,
} from "../bacula/metrics-file.ts";
import { changerStatus, formatStatus } from "../bacula/status.ts";
import { ToolError, UsageError } from "../errors.ts";
import { CONFIG_OPTION, defineCommand, JSON_OPTION } from "./cli.ts";
import { writeJson, writeText } from "../system/fd-write.ts";
import { openChanger } from "./context.ts";

export interface StatusOptions {
  config: string;
  json: boolean;
  /** Write the Prometheus metrics there ("-": stdout) instead of the report. */
  prometheus?: string | undefined;
}

export async function runStatus(opts: StatusOptions): Promise<void> {
  if (opts.prometheus !== undefined) return runMetrics(opts);
  const status = await changerStatus(openChanger(opts.config));
  if (opts.json) writeJson(status);
  else writeText(1, formatStatus(status));
  if (status.baculaError !== undefined)
    throw new ToolError(
      `cannot read the storage daemon's status: ${status.baculaError}`,
    );
}

async function runMetrics(opts: StatusOptions): Promise<void> {
  const file = opts.prometheus as string;
  if (opts.json)
    throw new UsageError(
      "status: --json and --prometheus exclude each other; run `magchanger status --help`",
    );
  if (file === "-")
    return writeText(1, await metricsText(openChanger(opts.config)));
  if (process.geteuid?.() === 0) return writeMetricsAsRoot(opts.config, file);
  return writeMetrics(openChanger(opts.config), file);
}

export const command = defineCommand({
  name: "status",
  summary:
    "The bays and the drawer, each drive, and what the storage daemon waits for, with the disk it needs by name.",
  options: {
    config: CONFIG_OPTION,
    json: JSON_OPTION,
    prometheus: {
      type: "string",
      value: "FILE",
      description:
        "instead, write metrics for node_exporter's textfile collector to FILE (atomically; - for stdout), read as `magchanger check` reads: no bay scan, no disk mounted",
    },
  },
  description: [
    "The report scans the bays: an autofs disk that autofs has unmounted is mounted again to be read. With --prometheus nothing is scanned or printed: FILE gets the volumes, each magazine's volumes, attachment (magchanger_magazine_attached, _attached_timestamp_seconds, _removed_timestamp_seconds, and _rotation_overdue with a [rotation] limit) and free space when its filesystem is mounted (_free_bytes, _size_bytes), the queued events, a pending refresh and the jobs the storage daemon holds (magchanger_jobs_waiting; magchanger_storage_daemon_up is 0 when it cannot be asked within 20 s, which is no error here). As root, the metrics are gathered as the run-as user and written by root into a directory only root can change; `magchanger setup` prints the cron line that refreshes them every minute.",
  ],
  exitStatus: [
    0,
    1,
    2,
    3,
    [
      5,
      "the --prometheus file could not be written (the previous one is intact)",
    ],
    6,
    7,
    [
      8,
      "the storage daemon's status could not be read through bconsole (everything else is printed first)",
    ],
    9,
  ],
  run: ({ options }) =>
    runStatus({
      config: options.config,
      json: options.json,
      prometheus: options.prometheus,
    }),
});
