// What `magchanger refresh` and vchanger's REFRESH do and print: tell Bacula through bconsole
// (or, with bconsole disabled, only scan and say what to run), raise and deliver the operator's
// events (refresh-events.ts), then what is left for the operator, as exact lines (tested).
import { describeJobs } from "../events/types.ts";
import type { ChangerContext } from "../changer/context.ts";
import { scanChanger, withLock } from "../changer/operations.ts";
import { unlabeledAdvice, withDataAdvice } from "./advice.ts";
import { quoteName } from "./bconsole.ts";
import { type RefreshOutcome, refreshBacula } from "./refresh.ts";
import {
  eventsAfterRefresh,
  eventsAfterRefreshFailure,
} from "./refresh-events.ts";

export interface RefreshRequest {
  /** Run bconsole even when nothing changed. */
  force: boolean;
  /** Only repeat an update that did not finish (the timer's retry). */
  ifPending: boolean;
}

/**
 * Refreshes Bacula's view of the changer, then raises the bay events (never with --if-pending:
 * no bay scan) and delivers the queue to [notify]; returns what to print on stdout. A failed
 * refresh queues refresh-failed and tries to deliver it before the error goes on.
 */
export async function refreshAndReport(
  ctx: ChangerContext,
  request: RefreshRequest,
): Promise<string> {
  const { config } = ctx;
  const scanBays = !request.ifPending;
  if (config.legacy?.bconsole_disabled) {
    if (scanBays) await withLock(ctx, () => scanChanger(ctx));
    const notes = await eventsAfterRefresh(ctx, { scanBays });
    return `nothing sent to Bacula: bconsole is disabled in ${config.source} (bconsole = ""); run \`update slots storage=${quoteName(config.bacula.storage ?? config.name)} drive=${config.bacula.drive}\` in bconsole\n${linesOf(notes)}`;
  }
  const outcome = await refreshBacula(ctx, request).catch(
    async (error: unknown) => {
      await eventsAfterRefreshFailure(ctx, error);
      throw error;
    },
  );
  const notes = await eventsAfterRefresh(ctx, { scanBays });
  return refreshReport(ctx, outcome) + linesOf(notes);
}

const linesOf = (lines: string[]): string =>
  lines.map((l) => `${l}\n`).join("");

/** What refresh prints: what it did, then what is left for the operator. */
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
  lines.push(...outcome.damaged);
  for (const r of outcome.resumed) {
    const jobs = describeJobs(r.jobs);
    const what = r.volume
      ? `volume "${r.volume}" (slot ${r.slot})`
      : "a volume";
    lines.push(
      `resumed drive ${r.drive}: ${jobs || "a job"} waited for ${what}: ${r.command}`,
    );
  }
  for (const w of outcome.waiting) {
    const drive = w.drive ?? config.bacula.drive;
    const volume = w.volume ? ` for volume "${w.volume}"` : "";
    lines.push(
      `a job is waiting${volume} on drive ${drive}: once its disk is in, run \`mount storage=${storage} drive=${drive}\` in bconsole (update slots alone does not wake it)`,
    );
  }
  return `${lines.join("\n")}\n`;
}
