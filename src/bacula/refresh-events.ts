// What refresh does for the operator after telling Bacula: raise the bay events (a full refresh
// only: --if-pending never scans the bays, which would mount an autofs disk), check the rotation
// schedule (every run, the timer's too, even after a failed update: it reads magazines.json
// alone), and deliver the queue to [notify]. Delivery failures are reported and retried by the
// next refresh; they never fail the refresh itself.
import { errorMessage } from "../errors.ts";
import type { ChangerContext } from "../changer/context.ts";
import { noticeBays } from "../changer/bay-events.ts";
import { probeAll } from "../disk/discover.ts";
import { type DeliveryOutcome, deliverEvents } from "../events/deliver.ts";
import { clearRefreshFailure, noteRefreshFailure } from "../events/emit.ts";
import { noteRotation } from "../changer/rotation-events.ts";

/** Raises and delivers events; returns the lines refresh prints about them (none when quiet). */
export async function eventsAfterRefresh(
  ctx: ChangerContext,
  options: { scanBays: boolean },
): Promise<string[]> {
  clearRefreshFailure(ctx.config.work_dir);
  if (options.scanBays)
    noticeBays(
      ctx.config,
      await probeAll(ctx.config, ctx.sys),
      ctx.sys,
      ctx.log,
    );
  noteRotation(ctx);
  return deliveryReport(await deliverSafely(ctx));
}

/** A refresh failed: queue refresh-failed (and state-write-failed) and try to deliver them. */
export async function eventsAfterRefreshFailure(
  ctx: ChangerContext,
  error: unknown,
): Promise<void> {
  noteRefreshFailure(ctx.config.work_dir, error, ctx.log);
  noteRotation(ctx);
  await deliverSafely(ctx);
}

async function deliverSafely(
  ctx: ChangerContext,
): Promise<DeliveryOutcome | undefined> {
  try {
    return await deliverEvents(ctx.config, ctx.log);
  } catch (error) {
    ctx.log.error(`cannot deliver events: ${errorMessage(error)}`);
    return undefined;
  }
}

function deliveryReport(outcome: DeliveryOutcome | undefined): string[] {
  if (!outcome || (outcome.delivered === 0 && outcome.pending === 0)) return [];
  if (outcome.stopped === "no [notify] command is set") return [];
  const lines: string[] = [];
  if (outcome.delivered > 0)
    lines.push(`notified: ${outcome.delivered} event(s) delivered to [notify]`);
  if (outcome.pending > 0)
    lines.push(
      `WARN: ${outcome.pending} event(s) still queued (${outcome.stopped}); the next refresh retries`,
    );
  return lines;
}
