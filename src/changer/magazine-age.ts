// How long a magazine has been in a bay, or out of one, from what WORK_DIR/magazines.json records
// (attachedAt, removedAt: written by refresh when it sees a disk arrive or leave). The one place
// that turns those times into days, for `check`, the metrics and the rotation reminders.
import type { KnownMagazine } from "./known-magazines.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface MagazineAge {
  /** Days since it arrived, for a magazine in a bay now. */
  attachedDays?: number;
  /** Days since it left, for a magazine in the drawer. */
  absentDays?: number;
}

/** Empty when the time that matters was never recorded (or is later than now: a clock step). */
export function magazineAge(
  m: Pick<KnownMagazine, "attached" | "attachedAt" | "removedAt">,
  now: Date,
): MagazineAge {
  const since = Date.parse((m.attached ? m.attachedAt : m.removedAt) ?? "");
  if (Number.isNaN(since) || since > now.getTime()) return {};
  const days = (now.getTime() - since) / DAY_MS;
  return m.attached ? { attachedDays: days } : { absentDays: days };
}
