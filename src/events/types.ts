// What the changer tells the operator about: one event, queued durably in the work dir and
// delivered later (by refresh and the timer) to the [notify] command, never from a changer call.
import { formatBytes } from "../text.ts";

/**
 * Jobs as messages name them: `NAME (JobId N), ...`, or `NAME JobId N, ...` in the one-line
 * forms of status and the monitoring check.
 */
export function describeJobs(
  jobs: readonly { name: string; jobid: number }[],
  form: "parens" | "plain" = "parens",
): string {
  return jobs
    .map((j) =>
      form === "parens"
        ? `${j.name} (JobId ${j.jobid})`
        : `${j.name} JobId ${j.jobid}`,
    )
    .join(", ");
}

/** A magazine as every message names it: `magazine 2 "Thursday" (label ..., UUID ...)`. */
export interface EventMagazine {
  number: number;
  name?: string;
  label?: string;
  uuid: string;
}

/** A magazine in the drawer with volumes Bacula may write in the pool a backup waits for. */
export interface SpaceMagazine {
  magazine: EventMagazine;
  /** VolStatus Append (or Recycle: recycled, ready). */
  appendable: number;
  /** Full or Used, Recycle = yes, retention ended: Bacula's pruning frees them. */
  recyclable: number;
  purged: number;
  /** Volumes the catalog does not know: refresh labels the blank ones into [bacula] pool. */
  unlabeled: number;
  /** The first few of their names (an event stays small). */
  volumes: string[];
  /** What the recyclable and purged ones hold now, written over when Bacula reuses them. */
  reusableBytes: number;
  /**
   * Its free space for the run-as user, about: as a refresh last measured it (freeAt), less what
   * the catalog says was written on its volumes since.
   */
  freeBytes?: number;
  freeAt?: string;
}

export type ChangerEvent =
  | {
      kind: "volume-needed";
      volume: string;
      slot: number;
      magazine: EventMagazine;
      at: string;
    }
  | {
      kind: "magazine-attached" | "magazine-removed";
      magazine: EventMagazine;
      bay: number;
      at: string;
    }
  | { kind: "unknown-disk"; bay: number; detail: string; at: string }
  | { kind: "state-write-failed"; path: string; error: string; at: string }
  | { kind: "refresh-failed"; error: string; at: string }
  | {
      kind: "magazine-nearly-full";
      magazine: EventMagazine;
      freeBytes: number;
      totalBytes: number;
      at: string;
    }
  | {
      kind: "space-needed";
      pool: string;
      jobs: { jobid: number; name: string }[];
      /** Empty: no magazine in the drawer holds one, a new disk is needed. */
      magazines: SpaceMagazine[];
      at: string;
    }
  | {
      kind: "magazine-attached-too-long";
      magazine: EventMagazine;
      bay: number;
      /** When it arrived; days: whole days since, at least limitDays. */
      since: string;
      days: number;
      limitDays: number;
      at: string;
    }
  | {
      /**
       * A job waits on a volume of an attached disk whose filesystem has no room left for the
       * run-as user (the seed's trap: root's reserve); detail says why and the fix.
       */
      kind: "magazine-full";
      volume: string;
      magazine: EventMagazine;
      jobs: { jobid: number; name: string }[];
      detail: string;
      at: string;
    }
  | {
      /** A LUKS USB disk unlock could not open (unlock/refused.ts): the reason names the fix. */
      kind: "disk-refused";
      device: string;
      reason: string;
      at: string;
    }
  | {
      /** A volume that cannot be trusted (bacula/damage.ts): marked Error in the catalog. */
      kind: "volume-damaged";
      volume: string;
      magazine: EventMagazine;
      /** pulled-in-use: its disk left while a job used it; short: its file lost writes. */
      cause: "pulled-in-use" | "short";
      jobs: { jobid: number; name: string }[];
      fileBytes?: number;
      catalogBytes?: number;
      at: string;
    }
  | {
      kind: "magazine-absent-too-long";
      magazine: EventMagazine;
      /** When it was noticed gone. */
      since: string;
      days: number;
      limitDays: number;
      at: string;
    };

export type EventKind = ChangerEvent["kind"];

export const EVENT_KINDS: readonly EventKind[] = [
  "volume-needed",
  "magazine-attached",
  "magazine-removed",
  "unknown-disk",
  "state-write-failed",
  "refresh-failed",
  "magazine-nearly-full",
  "space-needed",
  "magazine-attached-too-long",
  "magazine-absent-too-long",
  "volume-damaged",
  "disk-refused",
  "magazine-full",
];

/** `magazine 2 "Thursday" (label usbchanger1-thu, UUID ...)`. */
export function describeMagazine(m: EventMagazine): string {
  const name = m.name ? ` "${m.name}"` : "";
  const label = m.label ? `label ${m.label}, ` : "";
  return `magazine ${m.number}${name} (${label}UUID ${m.uuid})`;
}

/** The one-line summary a notifier gets in MAGCHANGER_EVENT_SUMMARY (and a mail its subject). */
export function summarizeEvent(event: ChangerEvent, changer: string): string {
  const text = ((): string => {
    switch (event.kind) {
      case "volume-needed":
        return `Bacula needs volume ${event.volume} (slot ${event.slot}): attach ${describeMagazine(event.magazine)}`;
      case "magazine-attached":
        return `${describeMagazine(event.magazine)} attached in bay ${event.bay}`;
      case "magazine-removed":
        return `${describeMagazine(event.magazine)} removed from bay ${event.bay}`;
      case "unknown-disk":
        return `bay ${event.bay} holds a disk that is no magazine of this changer: ${event.detail}`;
      case "state-write-failed":
        return `cannot write ${event.path}: ${event.error}`;
      case "refresh-failed":
        return `refresh failed: ${event.error}`;
      case "magazine-nearly-full":
        return `${describeMagazine(event.magazine)} is nearly full: ${event.freeBytes} of ${event.totalBytes} bytes free for the run-as user`;
      case "space-needed":
        return describeSpaceNeeded(event);
      case "magazine-attached-too-long":
        return `${describeMagazine(event.magazine)} has been attached in bay ${event.bay} for ${days(event.days)} (since ${event.since}; [rotation] max_days_attached = ${event.limitDays}): the offsite copy is getting old; swap in another disk`;
      case "magazine-absent-too-long":
        return `${describeMagazine(event.magazine)} has not been seen for ${days(event.days)} (removed ${event.since}; [rotation] max_days_absent = ${event.limitDays}): is it lost or forgotten?`;
      case "volume-damaged":
        return describeVolumeDamage(event);
      case "magazine-full":
        return `${describeJobs(event.jobs) || "a job"} waits on ${event.volume} of ${describeMagazine(event.magazine)}, whose ${event.detail.replace(/^its /, "")}; then run magchanger refresh --force (the job continues)`;
      case "disk-refused":
        return `the disk plugged in as ${event.device} was not opened: ${event.reason}`;
    }
  })();
  return `${changer}: ${text}`;
}

const days = (n: number): string => `${n} ${n === 1 ? "day" : "days"}`;

/** At most this much in a volume file means no job wrote to it: a label is 64 KiB at most. */
export const UNWRITTEN_BYTES = 64 * 1024;

/** One line with what to do: the event's summary, and status, doctor and refresh print it too. */
export function describeVolumeDamage(
  d: Omit<Extract<ChangerEvent, { kind: "volume-damaged" }>, "kind" | "at">,
): string {
  const on = `${d.volume} on magazine ${d.magazine.number}${d.magazine.name ? ` "${d.magazine.name}"` : ""}`;
  const jobs = describeJobs(d.jobs);
  // Such a volume held no backup, only its label was lost.
  if (d.cause === "short" && (d.catalogBytes ?? Infinity) <= UNWRITTEN_BYTES)
    return `volume ${on} lost its label (its file holds ${d.fileBytes ?? "?"} of the ${d.catalogBytes} bytes Bacula's catalog counts; the disk was pulled or the power cut right after it was labeled, and no backup was on it): it is marked Error in Bacula; to use it again: delete volume=${d.volume} yes in bconsole, truncate -s 0 its file, magchanger refresh (which labels it)`;
  const why =
    d.cause === "pulled-in-use"
      ? `its disk was pulled while ${jobs || "a job"} used it, which was cancelled: run it again`
      : `its file holds ${d.fileBytes ?? "?"} of the ${d.catalogBytes ?? "?"} bytes Bacula's catalog counts (writes lost: the disk was pulled or the power cut while it was written): run the jobs that wrote it again`;
  return `volume ${on} cannot be trusted: ${why}; it is marked Error in Bacula (to reuse it, erasing it: delete volume=${d.volume} yes in bconsole, truncate -s 0 its file, magchanger refresh)`;
}

function describeSpaceNeeded(
  event: Extract<ChangerEvent, { kind: "space-needed" }>,
): string {
  const jobs = describeJobs(event.jobs, "plain");
  const wants = `Bacula needs a volume with space in pool "${event.pool}"${jobs ? ` for ${jobs}` : ""}`;
  if (event.magazines.length === 0)
    return `${wants}, and no magazine in the drawer holds one: prepare a new disk (\`magchanger magazine init\`)`;
  return `${wants}: attach ${event.magazines.map(describeSpaceMagazine).join("; or ")}`;
}

/** `magazine 3 "Tuesday" (...): 3 volumes it may use (2 recyclable, 1 purged; 25.0 MiB to reuse), about 40.0 MiB free`. */
export function describeSpaceMagazine(m: SpaceMagazine): string {
  const counts = [
    [m.appendable, "appendable"],
    [m.recyclable, "recyclable"],
    [m.purged, "purged"],
    [m.unlabeled, "new that refresh labels"],
  ] as const;
  const total = counts.reduce((sum, [n]) => sum + n, 0);
  const kinds = counts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`);
  const reuse =
    m.reusableBytes > 0 ? `; ${formatBytes(m.reusableBytes)} to reuse` : "";
  const free =
    m.freeBytes !== undefined ? `, about ${formatBytes(m.freeBytes)} free` : "";
  return `${describeMagazine(m.magazine)}: ${total} ${total === 1 ? "volume" : "volumes"} it may use (${kinds.join(", ")}${reuse})${free}`;
}
