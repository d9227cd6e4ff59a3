// How long each known magazine has been attached, or away, from WORK_DIR/magazines.json and a
// clock: the one place those times become days, for `status`, `magazine list`, the rotation
// events, `check` and `status --prometheus` (rotationFact).
// Plain data from plain data: no disk is touched (an autofs bay would be mounted), no lock.
import type { Config } from "../config/schema.ts";
import { magazineRef } from "../disk/magazine-name.ts";
import type { EventMagazine } from "../events/types.ts";
import { type KnownMagazine, readKnownMagazines } from "./known-magazines.ts";

export const SECONDS_PER_DAY = 86_400;

export interface RotationFact {
  magazine: EventMagazine;
  attached: boolean;
  /** The bay it is in, or was last in. */
  bay?: number;
  /**
   * When it arrived (attached) or was noticed gone (in the drawer), as refresh recorded it;
   * the figures below are left out for a disk refresh never saw arrive or leave.
   */
  since?: string;
  /** Seconds since then (0 for a time ahead of the clock). */
  seconds?: number;
  /** Whole days since then. */
  days?: number;
  /** The [rotation] limit that applies: max_days_attached when attached, else max_days_absent. */
  limitDays?: number;
  /** At or past that limit. */
  overdue: boolean;
}

export type RotationConfig = NonNullable<Config["rotation"]>;

/** What a fact is made of: magazines.json's record of one magazine (check's view of it too). */
export type RotationSubject = Pick<
  KnownMagazine,
  "uuid" | "number" | "attached" | "attachedAt" | "removedAt"
> & {
  name?: string | undefined;
  label?: string | undefined;
  bay?: number | undefined;
};

/** How long m has been where it is at now, against [rotation]'s limit for that, when set. */
export function rotationFact(
  m: RotationSubject,
  rotation: RotationConfig | undefined,
  now: Date,
): RotationFact {
  const since = m.attached ? m.attachedAt : m.removedAt;
  const limitDays = m.attached
    ? rotation?.max_days_attached
    : rotation?.max_days_absent;
  const fact: RotationFact = {
    magazine: magazineRef(m),
    attached: m.attached,
    overdue: false,
    ...(m.bay !== undefined ? { bay: m.bay } : {}),
    ...(limitDays !== undefined ? { limitDays } : {}),
  };
  const started = since === undefined ? Number.NaN : Date.parse(since);
  if (since !== undefined && !Number.isNaN(started)) {
    const seconds = Math.max(0, Math.floor((now.getTime() - started) / 1000));
    fact.since = since;
    fact.seconds = seconds;
    fact.days = Math.floor(seconds / SECONDS_PER_DAY);
    fact.overdue =
      limitDays !== undefined && seconds >= limitDays * SECONDS_PER_DAY;
  }
  return fact;
}

/** One fact per magazine, by magazine number; the limits are [rotation]'s, when set. */
export function rotationFacts(
  known: Iterable<RotationSubject>,
  rotation: RotationConfig | undefined,
  now: Date,
): RotationFact[] {
  return [...known]
    .map((m) => rotationFact(m, rotation, now))
    .sort((a, b) => a.magazine.number - b.magazine.number);
}

/**
 * The facts of every magazine WORK_DIR/magazines.json knows, at now: for `status`, `magazine
 * list`, the rotation events and monitoring (`check`, `status --prometheus`). Reads one small
 * file; a missing or damaged one is no magazines.
 */
export function readRotationFacts(
  config: Pick<Config, "work_dir" | "rotation">,
  now = new Date(),
): RotationFact[] {
  return rotationFacts(
    readKnownMagazines(config.work_dir).values(),
    config.rotation,
    now,
  );
}

/** `6 days`, `1 day`, `less than a day`. */
export function formatDays(days: number): string {
  if (days === 0) return "less than a day";
  return `${days} ${days === 1 ? "day" : "days"}`;
}

/**
 * The [rotation] limit an overdue fact has reached and what to do, as status, `magazine list`
 * and check say it: `[rotation] max_days_attached = 8: swap in another disk, ...`.
 */
export function describeLimit(
  fact: Pick<RotationFact, "attached" | "limitDays">,
): string {
  return fact.attached
    ? `[rotation] max_days_attached = ${fact.limitDays}: swap in another disk, the offsite copy is getting old`
    : `[rotation] max_days_absent = ${fact.limitDays}: is it lost or forgotten?`;
}

/** What status and `magazine list` add after a date: `(9 days; [rotation] max_days_attached = 8: ...)`. */
export function describeRotation(
  fact: Pick<RotationFact, "attached" | "days" | "limitDays" | "overdue">,
): string {
  if (fact.days === undefined) return "";
  const days = formatDays(fact.days);
  return fact.overdue ? ` (${days}; ${describeLimit(fact)})` : ` (${days})`;
}
