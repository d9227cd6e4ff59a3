// What the changer tells the operator about: one event, queued durably in the work dir and
// delivered later (by refresh and the timer) to the [notify] command, never from a changer call.

/** A magazine as every message names it: `magazine 2 "Thursday" (label ..., UUID ...)`. */
export interface EventMagazine {
  number: number;
  name?: string;
  label?: string;
  uuid: string;
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
    }
  })();
  return `${changer}: ${text}`;
}
