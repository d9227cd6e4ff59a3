// `magchanger refresh -c CONF [--force | --if-pending]`: safe from udev/systemd, cron or by hand,
// concurrently with the storage daemon's changer calls. Never run from a changer call.
import { defineCommand } from "citty";
import type { ChangerContext } from "../changer/context.ts";
import { scanChanger, withLock } from "../changer/operations.ts";
import { UsageError } from "../errors.ts";
import { quoteName } from "../bacula/bconsole.ts";
import { unlabeledAdvice, withDataAdvice } from "../bacula/advice.ts";
import { type RefreshOutcome, refreshBacula } from "../magazine/refresh.ts";
import { runCli } from "./cli.ts";
import { openChanger, writeStdout } from "./context.ts";

const EXIT_STATUS =
  "Exit status: 0 Bacula is up to date (with --if-pending: or no update is pending); 1 failed; 2 usage; 3 config; 4 changer busy; 5 state write failed; 7 cannot switch user; 8 bconsole missing, failed or timed out (the update is retried by the next refresh).";

const command = defineCommand({
  meta: {
    name: "refresh",
    description:
      "tell Bacula (update slots; label barcodes for new blank volumes when [bacula] pool is set) when the volumes in the changer changed",
  },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "the changer's config file",
      required: true,
    },
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
  async run({ args }) {
    if (args.force && args["if-pending"])
      throw new UsageError("--force and --if-pending exclude each other");
    await runRefresh(
      openChanger(args.config),
      Boolean(args.force),
      Boolean(args["if-pending"]),
    );
  },
});

export async function main(args: string[]): Promise<void> {
  await runCli(command, args, EXIT_STATUS);
}

/** Shared with the vchanger form's REFRESH. */
export async function runRefresh(
  ctx: ChangerContext,
  force: boolean,
  ifPending = false,
): Promise<void> {
  const { config } = ctx;
  if (config.legacy?.bconsole_disabled) {
    if (!ifPending) await withLock(ctx, () => scanChanger(ctx));
    writeStdout(
      `nothing sent to Bacula: bconsole is disabled in ${config.source} (bconsole = ""); run \`update slots storage=${quoteName(config.bacula.storage ?? config.name)} drive=${config.bacula.drive}\` in bconsole\n`,
    );
    return;
  }
  const outcome = await refreshBacula(ctx, { force, ifPending });
  writeStdout(refreshReport(ctx, outcome));
}

/** What refresh prints: what it did, then what is left for the operator (exact lines, tested). */
export function refreshReport(
  ctx: ChangerContext,
  outcome: RefreshOutcome,
): string {
  const { config } = ctx;
  const storage = quoteName(config.bacula.storage ?? config.name);
  const lines = [
    outcome.ran
      ? `Bacula updated (${outcome.reason}): ${outcome.commands.join("; ")}`
      : `nothing to do: ${outcome.reason}`,
  ];
  const unlabeled = outcome.unlabeled.length;
  if (unlabeled > 0) lines.push(`WARN: ${unlabeledAdvice(config, unlabeled)}`);
  if (outcome.withData.length > 0)
    lines.push(`WARN: ${withDataAdvice(config, outcome.withData)}`);
  for (const w of outcome.waiting) {
    const drive = w.drive ?? config.bacula.drive;
    const volume = w.volume ? ` for volume "${w.volume}"` : "";
    lines.push(
      `a job is waiting${volume} on drive ${drive}: once its disk is in, run \`mount storage=${storage} drive=${drive}\` in bconsole (update slots alone does not wake it)`,
    );
  }
  return `${lines.join("\n")}\n`;
}
