// Which waits for a volume with space were told (space-needed.ts finds them): one space-needed
// event per wait, remembered in WORK_DIR/space-wanted.json as wanted.json does for named volumes,
// forgotten when the wait ends. A wait the attached disks can serve is not told: refresh's mount
// lets it try again.
import { join } from "node:path";
import type { ChangerContext } from "../changer/context.ts";
import { enqueueEvent } from "../events/queue.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readTextBounded } from "../state/safe-fs.ts";
import type { DriveStatus } from "./sd-status.ts";
import {
  type AppendWait,
  appendWaits,
  readSpaceWaits,
  type SpaceWait,
} from "./space-needed.ts";

function waitKey(w: AppendWait): string {
  const who = w.jobs.length
    ? `jobs ${w.jobs.map((j) => j.jobid).join(",")}`
    : `drive ${w.drive}`;
  return `${w.pool}\t${who}`;
}

/** The most read of WORK_DIR/space-wanted.json (the run-as user's: src/doctor/root-reads.ts). */
export const MAX_SPACE_WANTED_BYTES = 256 * 1024;

function toldPath(workDir: string): string {
  return join(workDir, "space-wanted.json");
}

/** Wait key -> when it was told. */
export function readToldSpaceWaits(workDir: string): Record<string, string> {
  try {
    const data = JSON.parse(
      readTextBounded(toldPath(workDir), { maxBytes: MAX_SPACE_WANTED_BYTES }),
    ) as { told?: unknown };
    const told = data.told;
    if (!told || typeof told !== "object" || Array.isArray(told)) return {};
    return Object.fromEntries(
      Object.entries(told).filter(([, at]) => typeof at === "string"),
    ) as Record<string, string>;
  } catch {
    return {};
  }
}

/** The waits in status that were told already (the timer then needs no catalog). */
export function untoldAppendWaits(
  workDir: string,
  waits: AppendWait[],
): AppendWait[] {
  const told = readToldSpaceWaits(workDir);
  return waits.filter((w) => told[waitKey(w)] === undefined);
}

/**
 * Queues one space-needed event for each wait that no attached magazine can serve and that was
 * not told yet; forgets the waits that ended. waits must be every append wait of one successful
 * `status storage` read (a wait missing from it counts as ended). Never throws: this runs beside
 * refresh and status, whose own work must not fail because of it.
 */
export function noteSpaceWaits(
  ctx: ChangerContext,
  waits: SpaceWait[],
  now = new Date(),
): void {
  const workDir = ctx.config.work_dir;
  try {
    const told = readToldSpaceWaits(workDir);
    const next: Record<string, string> = {};
    for (const w of waits) {
      const key = waitKey(w);
      const since = told[key];
      if (since !== undefined) {
        next[key] = since;
        continue;
      }
      if (w.catalogError !== undefined || w.attached.length > 0) continue;
      next[key] = now.toISOString();
      enqueueEvent(
        workDir,
        {
          kind: "space-needed",
          pool: w.pool,
          jobs: w.jobs,
          magazines: w.drawer,
          at: now.toISOString(),
        },
        ctx.log,
      );
    }
    if (JSON.stringify(next) !== JSON.stringify(told))
      writeFileAtomic(
        toldPath(workDir),
        `${JSON.stringify({ version: 1, told: next })}\n`,
      );
  } catch (error) {
    ctx.log.warn(
      `cannot record the waits for a volume with space: ${(error as Error).message}`,
    );
  }
}

/**
 * From one successful `status storage` read: tells the waits for space not told yet, asking the
 * catalog only for those (the timer's run with nothing pending stays one bconsole call).
 */
export async function noteSpaceWaitsFromStatus(
  ctx: ChangerContext,
  status: DriveStatus[],
  now = new Date(),
): Promise<void> {
  const waits = appendWaits(status);
  const fresh = untoldAppendWaits(ctx.config.work_dir, waits).length > 0;
  noteSpaceWaits(
    ctx,
    fresh
      ? await readSpaceWaits(ctx, status)
      : waits.map((w) => ({ ...w, drawer: [], attached: [] })),
    now,
  );
}
