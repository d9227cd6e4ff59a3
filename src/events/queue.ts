// The durable event queue: WORK_DIR/events/<time>-<pid>-<n>.json, one small file per event,
// written temp + fsync + rename + fsync(dir) (state/atomic.ts). Enqueueing is O(1): no
// directory scan, no lock, one file write, so a changer call (a failed `load`) can record what it
// wanted without blocking the storage daemon. The names sort in the order events were queued.
// Delivery (deliver.ts: deliverEvents) runs later, outside any changer call; it is kept out of
// this module so the changer path that enqueues loads nothing more.
import { lstatSync, mkdirSync, readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { describeErrno, errnoCode, errorMessage } from "../errors.ts";
import { type Log, nullLog } from "../log.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readTextBounded } from "../state/safe-fs.ts";
import type { ChangerEvent } from "./types.ts";
import { asChangerEvent } from "./validate.ts";

export const EVENTS_DIR = "events";
export const SENT_DIR = "sent";
const EVENT_NAME = /^\d{15}-\d{1,10}-\d{1,10}\.json$/;
/** Events are small; a bigger file is no event of ours. */
export const MAX_EVENT_BYTES = 16 * 1024;

export function eventsDir(workDir: string): string {
  return join(workDir, EVENTS_DIR);
}

let counter = 0;

/**
 * Queues event in workDir. Never throws: a changer call that records an event must fail or
 * succeed for its own reasons only, so a failure to enqueue is logged and undefined returned.
 * Returns the event's id (its file name without .json).
 */
export function enqueueEvent(
  workDir: string,
  event: ChangerEvent,
  log: Log = nullLog,
): string | undefined {
  const dir = eventsDir(workDir);
  let made = false;
  try {
    made = ensureEventsDir(dir);
    counter += 1;
    // Zero-padded like the time: the names sort as queued even when one process queues ten or
    // more within a millisecond ("-10" would sort before "-9").
    const id = `${String(Date.now()).padStart(15, "0")}-${process.pid}-${String(counter).padStart(10, "0")}`;
    writeFileAtomic(
      join(dir, `${id}.json`),
      `${JSON.stringify(event)}\n`,
      0o600,
    );
    return id;
  } catch (error) {
    // A failed call leaves the work dir as it found it: no empty events dir of ours.
    if (made) safely(() => rmdirSync(dir));
    safeLog(
      log,
      `cannot queue the ${event.kind} event in ${dir}: ${errorMessage(error)}`,
    );
    return undefined;
  }
}

/**
 * The events directory, made 0700 when missing; a link or anything else there is refused.
 * Returns whether it was made now.
 */
export function ensureEventsDir(dir: string): boolean {
  try {
    const stats = lstatSync(dir);
    if (stats.isDirectory()) return false;
    throw new Error(`${dir} is not a directory (not followed); remove it`);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
  try {
    mkdirSync(dir, { mode: 0o700 });
    return true;
  } catch (error) {
    if (errnoCode(error) !== "EEXIST")
      throw new Error(`cannot create ${dir}: ${describeErrno(error)}`);
    return false;
  }
}

/** Ids of the queued (undelivered) events, oldest first. Missing directory: none. */
export function pendingEventIds(workDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(eventsDir(workDir));
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw error;
  }
  return names
    .filter((n) => EVENT_NAME.test(n))
    .sort()
    .map((n) => n.slice(0, -".json".length));
}

/** The event in file path, or undefined when it is no readable event (logged by the caller). */
export function readEventFile(path: string): ChangerEvent | undefined {
  try {
    // Only a known kind with well-typed fields: the file may be planted (validate.ts).
    return asChangerEvent(
      JSON.parse(readTextBounded(path, { maxBytes: MAX_EVENT_BYTES })),
    );
  } catch {
    // unreadable or damaged: the caller sets it aside
  }
  return undefined;
}

/** Queued events, oldest first (for status and doctor). */
export function readPendingEvents(
  workDir: string,
): { id: string; event: ChangerEvent }[] {
  const dir = eventsDir(workDir);
  const out: { id: string; event: ChangerEvent }[] = [];
  for (const id of pendingEventIds(workDir)) {
    const event = readEventFile(join(dir, `${id}.json`));
    if (event) out.push({ id, event });
  }
  return out;
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // cleanup after a failure already being reported
  }
}

function safeLog(log: Log, message: string): void {
  try {
    log.error(message);
  } catch {
    // logging is best effort
  }
}
