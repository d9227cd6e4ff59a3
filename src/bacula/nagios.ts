// `magchanger check`'s answer in the Nagios/Icinga plugin form: one line `MAGCHANGER STATE -
// what | perfdata`, then one line per magazine, and the state as the exit code. What is CRITICAL
// (someone must act now: a job stands still, no disk is in, a disk is full) and what is WARNING
// (it works, but not for long or not fully) is decided here alone; README "Monitoring" says it.
// How long a disk has been in or out, and whether [rotation]'s limit is reached, is
// changer/rotation.ts's rotationFact: the same figures status and `magazine list` show.
import {
  describeLimit,
  type RotationFact,
  rotationFact,
  SECONDS_PER_DAY,
} from "../changer/rotation.ts";
import { describeMagazine, describeJobs } from "../events/types.ts";
import { formatBytes, printable } from "../text.ts";
import type {
  MonitorFacts,
  MonitoredMagazine,
  MonitoredWait,
} from "./monitor.ts";
import { waitingJobs } from "./monitor.ts";

export const OK = 0;
export const WARNING = 1;
export const CRITICAL = 2;
export const UNKNOWN = 3;
export type PluginState = 0 | 1 | 2 | 3;

export const STATE_NAMES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;

/** Worst first: a known CRITICAL or WARNING outranks what could not be found out. */
const RANK: Record<PluginState, number> = { 2: 3, 1: 2, 3: 1, 0: 0 };

/** A free-space limit: bytes, or a percentage of what the run-as user may fill. */
export type SpaceLimit = { bytes: number } | { percent: number };

export interface CheckThresholds {
  freeWarning: SpaceLimit;
  freeCritical: SpaceLimit;
  refreshWarningMinutes: number;
  refreshCriticalMinutes: number;
  eventsWarningMinutes: number;
}

export interface Problem {
  state: PluginState;
  text: string;
}

export interface CheckResult {
  state: PluginState;
  /** The whole plugin output, newline-terminated. */
  output: string;
}

function limitBytes(limit: SpaceLimit, usableBytes: number): number {
  return "bytes" in limit
    ? limit.bytes
    : Math.floor((usableBytes * limit.percent) / 100);
}

/** `magazine 2 "Thursday"`: the status line stays short; the lines below it give label and UUID. */
function shortName(m: { number: number; name?: string | undefined }): string {
  return `magazine ${m.number}${m.name ? ` "${m.name}"` : ""}`;
}

function who(w: MonitoredWait): string {
  const jobs = describeJobs(w.jobs, "plain");
  const drive = w.drive === null ? "" : ` on drive ${w.drive}`;
  return `${jobs || "a job"}${drive}`;
}

function waitProblem(w: MonitoredWait): Problem {
  if (w.volume === undefined)
    return {
      state: CRITICAL,
      text: `${who(w)} waits for any appendable volume: no disk in a bay has a volume to write; attach one that has, or add volumes`,
    };
  if (!w.magazine)
    return {
      state: CRITICAL,
      text: `${who(w)} waits for ${w.volume}, which is no volume of this changer`,
    };
  if (w.attached)
    return {
      state: WARNING,
      text: `${who(w)} waits for ${w.volume} on ${shortName(w.magazine)}, which is attached: the next refresh lets it go on`,
    };
  return {
    state: CRITICAL,
    text: `${who(w)} waits for ${w.volume}: attach ${shortName(w.magazine)}`,
  };
}

function spaceProblem(
  m: MonitoredMagazine,
  t: CheckThresholds,
): Problem | undefined {
  if (!m.space) return undefined;
  const { availableBytes, usableBytes } = m.space;
  const state =
    availableBytes < limitBytes(t.freeCritical, usableBytes)
      ? CRITICAL
      : availableBytes < limitBytes(t.freeWarning, usableBytes)
        ? WARNING
        : OK;
  if (state === OK) return undefined;
  return {
    state,
    text: `${shortName(m)} has ${formatBytes(availableBytes)} of ${formatBytes(usableBytes)} free`,
  };
}

const minutesSince = (iso: string | Date, now: Date) =>
  (now.getTime() - new Date(iso).getTime()) / 60_000;

/** The magazine's stay at f.now against [rotation] (rotation.ts: one computation for all). */
const stay = (m: MonitoredMagazine, f: MonitorFacts): RotationFact =>
  rotationFact(m, f.rotation, f.now);

/** A disk past [rotation]'s limit: a WARNING, as the rotation events tell it; nothing stops. */
function rotationProblem(
  m: MonitoredMagazine,
  f: MonitorFacts,
): Problem | undefined {
  const fact = stay(m, f);
  if (!fact.overdue || fact.seconds === undefined) return undefined;
  const where = fact.attached
    ? `attached in bay ${m.bay ?? "?"}`
    : "in the drawer";
  return {
    state: WARNING,
    text: `${shortName(m)} ${where} for ${daysText(fact.seconds)} (${describeLimit(fact)})`,
  };
}

function stateProblems(f: MonitorFacts, t: CheckThresholds): Problem[] {
  const problems: Problem[] = [];
  // A job standing still comes first: within a state the line keeps this order.
  if (f.storage && "error" in f.storage)
    problems.push({
      state: UNKNOWN,
      text: `cannot ask the storage daemon what it waits for: ${f.storage.error}`,
    });
  else if (f.storage) problems.push(...f.storage.waits.map(waitProblem));
  if (!f.magazines.some((m) => m.attached))
    problems.push({
      state: CRITICAL,
      text:
        f.magazines.length === 0
          ? "no magazine yet: prepare a disk with `magchanger magazine init`"
          : "no magazine is attached (as of the last refresh): a backup has nowhere to go",
    });
  if (f.refreshPendingSince !== undefined) {
    const minutes = minutesSince(f.refreshPendingSince, f.now);
    const state =
      minutes >= t.refreshCriticalMinutes
        ? CRITICAL
        : minutes >= t.refreshWarningMinutes
          ? WARNING
          : OK;
    if (state !== OK)
      problems.push({
        state,
        text: `a Bacula update has been pending since ${f.refreshPendingSince} (it failed or hangs; the timer retries): see the log, or run \`magchanger refresh\``,
      });
  } else if (!f.told && f.magazines.length > 0)
    problems.push({
      state: WARNING,
      text: "Bacula was never told about the volumes: run `magchanger refresh`",
    });
  if (
    f.notify &&
    f.oldestQueuedAt !== undefined &&
    minutesSince(f.oldestQueuedAt, f.now) >= t.eventsWarningMinutes
  )
    problems.push({
      state: WARNING,
      text: `${f.queuedEvents} event(s) not delivered, the oldest since ${f.oldestQueuedAt.toISOString()}: the [notify] command fails (see the log)`,
    });
  for (const m of f.magazines) {
    const p = spaceProblem(m, t);
    if (p) problems.push(p);
  }
  for (const m of f.magazines) {
    const p = rotationProblem(m, f);
    if (p) problems.push(p);
  }
  return problems;
}

function worst(problems: Problem[]): PluginState {
  let state: PluginState = OK;
  for (const p of problems) if (RANK[p.state] > RANK[state]) state = p.state;
  return state;
}

/** Days to a tenth, from a stay's seconds: `3.5 days`. */
function daysText(seconds: number): string {
  return `${(seconds / SECONDS_PER_DAY).toFixed(1)} days`;
}

/** Days as performance data gives them: to a hundredth, not rounded to whole days. */
const exactDays = (fact: RotationFact): string | undefined =>
  fact.seconds === undefined
    ? undefined
    : (fact.seconds / SECONDS_PER_DAY).toFixed(2);

function summary(f: MonitorFacts): string {
  const attached = f.magazines.filter((m) => m.attached);
  const disks = attached.map((m) => {
    const { seconds } = stay(m, f);
    const parts = [
      seconds === undefined ? "" : `attached ${daysText(seconds)}`,
      m.space ? `${formatBytes(m.space.availableBytes)} free` : "",
    ].filter(Boolean);
    return `${shortName(m)}${parts.length ? ` ${parts.join(", ")}` : ""}`;
  });
  const waits = f.storage && "waits" in f.storage ? "no job waits" : undefined;
  return [...disks, `${f.volumes} volumes`, waits].filter(Boolean).join("; ");
}

function magazineLine(m: MonitoredMagazine, f: MonitorFacts): string {
  const { seconds } = stay(m, f);
  const since = seconds === undefined ? "" : ` for ${daysText(seconds)}`;
  const where = m.attached
    ? `in bay ${m.bay ?? "?"}${since}`
    : `in the drawer${since}`;
  const space = m.space
    ? `, ${formatBytes(m.space.availableBytes)} of ${formatBytes(m.space.usableBytes)} free`
    : m.unmeasured
      ? ` (space: ${m.unmeasured})`
      : "";
  return `${describeMagazine(m)}: ${where}, ${m.volumes} volumes${space}`;
}

/** A performance data label: quoted, as the plugin guidelines allow any label then. */
function perf(
  label: string,
  value: number | string | undefined,
  uom = "",
  warn = "",
  crit = "",
  min = "0",
  max = "",
): string {
  const shown =
    value === undefined
      ? "U"
      : `${typeof value === "string" || Number.isInteger(value) ? value : value.toFixed(2)}${uom}`;
  return `'${label}'=${shown};${warn};${crit};${min};${max}`.replace(/;+$/, "");
}

/** volumes, attached magazines, free bytes of each attached one, queued events, waiting jobs, days. */
export function perfData(f: MonitorFacts, t: CheckThresholds): string {
  const attached = f.magazines.filter((m) => m.attached).length;
  const items = [
    perf("volumes", f.volumes),
    perf("attached_magazines", attached, "", "", "1:"),
    perf("queued_events", f.queuedEvents),
  ];
  if (f.storage)
    items.push(
      perf(
        "waiting_jobs",
        "waits" in f.storage ? waitingJobs(f.storage.waits) : undefined,
      ),
    );
  for (const m of f.magazines) {
    const fact = stay(m, f);
    const days = exactDays(fact);
    // [rotation]'s limit as the WARNING threshold (a range "N": alert above N days).
    const warnDays = fact.limitDays === undefined ? "" : String(fact.limitDays);
    if (m.attached) {
      const usable = m.space?.usableBytes;
      items.push(
        perf(
          `magazine_${m.number}_free`,
          m.space?.availableBytes,
          "B",
          usable === undefined ? "" : `${limitBytes(t.freeWarning, usable)}:`,
          usable === undefined ? "" : `${limitBytes(t.freeCritical, usable)}:`,
          "0",
          usable === undefined ? "" : String(usable),
        ),
      );
      if (days !== undefined)
        items.push(
          perf(`magazine_${m.number}_days_attached`, days, "", warnDays),
        );
    } else if (days !== undefined)
      items.push(perf(`magazine_${m.number}_days_absent`, days, "", warnDays));
  }
  return items.join(" ");
}

export function evaluateCheck(
  f: MonitorFacts,
  t: CheckThresholds,
): CheckResult {
  const problems = stateProblems(f, t).sort(
    (a, b) => RANK[b.state] - RANK[a.state],
  );
  const state = worst(problems);
  const text = problems.length
    ? problems.map((p) => p.text).join("; ")
    : summary(f);
  // Names come from disks and the SD: no control character may split the one status line.
  const lines = [
    `MAGCHANGER ${STATE_NAMES[state]} - ${printable(text).replaceAll("|", "/")} | ${perfData(f, t)}`,
    ...f.magazines.map((m) =>
      printable(magazineLine(m, f)).replaceAll("|", "/"),
    ),
  ];
  return { state, output: `${lines.join("\n")}\n` };
}

/** The answer when the check could not look: UNKNOWN, or CRITICAL for a corrupt state file. */
export function failedCheck(state: PluginState, message: string): CheckResult {
  return {
    state,
    output: `MAGCHANGER ${STATE_NAMES[state]} - ${printable(message).replaceAll("|", "/")}\n`,
  };
}
