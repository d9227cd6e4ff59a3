// The rotation events: a disk attached for [rotation] max_days_attached (the offsite copy is
// getting old) or not seen for max_days_absent (lost or forgotten). Each is queued once when its
// limit is crossed and re-armed when that clears: the disk leaves or comes back (a new stay, a
// new `since`), or the limit is raised. WORK_DIR/events/rotation.json remembers which stays were
// told. Evaluated by refresh and by its timer's `refresh --if-pending` from magazines.json alone
// (rotation.ts): no bay is scanned, no lock taken, nothing blocks a backup.
import { errorMessage } from "../errors.ts";
import { join } from "node:path";
import { enqueueEvent, ensureEventsDir, eventsDir } from "../events/queue.ts";
import type { ChangerEvent } from "../events/types.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readTextIfExists } from "../state/safe-fs.ts";
import type { ChangerContext } from "./context.ts";
import { readRotationFacts } from "./rotation.ts";

/** Magazine uuid -> the `since` of the stay that was told. */
interface Told {
  attached: Record<string, string>;
  absent: Record<string, string>;
}

const FILE = "rotation.json";
/** The most read of WORK_DIR/events/rotation.json (the run-as user's: src/doctor/root-reads.ts). */
export const MAX_ROTATION_TOLD_BYTES = 256 * 1024;

function readTold(path: string): Told {
  const strings = (value: unknown): Record<string, string> =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value).filter(([, v]) => typeof v === "string"),
        )
      : {};
  try {
    const data = JSON.parse(
      readTextIfExists(path, { maxBytes: MAX_ROTATION_TOLD_BYTES }) ?? "{}",
    );
    return { attached: strings(data?.attached), absent: strings(data?.absent) };
  } catch {
    return { attached: {}, absent: {} }; // damaged: told again rather than never
  }
}

/** Queues the rotation events whose limit was crossed since the last run. Never throws. */
export function noteRotation(
  ctx: ChangerContext,
  now = new Date(),
): ChangerEvent[] {
  try {
    const path = join(eventsDir(ctx.config.work_dir), FILE);
    const before = readTold(path);
    const told: Told = { attached: {}, absent: {} };
    const raised: ChangerEvent[] = [];
    for (const fact of readRotationFacts(ctx.config, now)) {
      if (!fact.overdue || fact.since === undefined) continue;
      const { uuid } = fact.magazine;
      const which = fact.attached ? "attached" : "absent";
      told[which][uuid] = fact.since;
      if (before[which][uuid] === fact.since) continue;
      const common = {
        magazine: fact.magazine,
        since: fact.since,
        days: fact.days ?? 0,
        limitDays: fact.limitDays ?? 0,
        at: now.toISOString(),
      };
      raised.push(
        fact.attached
          ? {
              kind: "magazine-attached-too-long",
              bay: fact.bay ?? 0,
              ...common,
            }
          : { kind: "magazine-absent-too-long", ...common },
      );
    }
    for (const event of raised)
      enqueueEvent(ctx.config.work_dir, event, ctx.log);
    if (JSON.stringify(told) !== JSON.stringify(before)) {
      ensureEventsDir(eventsDir(ctx.config.work_dir));
      writeFileAtomic(path, `${JSON.stringify(told)}\n`, 0o600);
    }
    return raised;
  } catch (error) {
    ctx.log.error(`cannot check the rotation schedule: ${errorMessage(error)}`);
    return [];
  }
}
