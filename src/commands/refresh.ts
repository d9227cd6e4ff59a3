// `magchanger refresh -c CONF [--force | --if-pending]`: safe from udev/systemd, cron or by hand,
// concurrently with the storage daemon's changer calls. Never run from a changer call.
import { refreshAndReport } from "../bacula/refresh-report.ts";
import { UsageError } from "../errors.ts";
import { CONFIG_OPTION, defineCommand } from "./cli.ts";
import { teeToConsole } from "./console.ts";
import { writeText } from "../system/fd-write.ts";
import { openChanger } from "./context.ts";

export interface RefreshOptions {
  config: string;
  force: boolean;
  ifPending: boolean;
}

export async function runRefresh(opts: RefreshOptions): Promise<void> {
  if (opts.force && opts.ifPending)
    throw new UsageError(
      "refresh: --force and --if-pending exclude each other",
    );
  const ctx = openChanger(opts.config);
  ctx.log = teeToConsole(ctx.log);
  writeText(1, await refreshAndReport(ctx, opts));
}

export const command = defineCommand({
  name: "refresh",
  summary:
    "Tell Bacula what changed in the changer: update slots, and label barcodes for new blank volumes when [bacula] pool is set.",
  options: {
    config: CONFIG_OPTION,
    force: {
      type: "boolean",
      description: "run bconsole even when nothing changed",
    },
    "if-pending": {
      type: "boolean",
      description:
        "only repeat a Bacula update that did not finish (the timer's retry): without one, exit at once without scanning the bays (which would mount an autofs disk) or taking the changer lock",
    },
  },
  exitStatus: [
    [0, "Bacula is up to date (with --if-pending: or no update is pending)"],
    1,
    2,
    3,
    4,
    5,
    7,
    [
      8,
      "bconsole is missing, failed or timed out (the next refresh retries the update)",
    ],
  ],
  run: ({ options }) =>
    runRefresh({
      config: options.config,
      force: options.force,
      ifPending: options["if-pending"],
    }),
});
