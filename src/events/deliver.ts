// Delivery of queued events to the [notify] command, oldest first, each once. Run by refresh and
// the timer's `refresh --if-pending`, never by a changer call, and under its own lock
// (events/deliver.lock), never the changer's: a slow notifier blocks no storage daemon call.
//
// Once per event, across kill -9: before the notifier starts, ID.attempt records the attempt
// durably ("starting") with no ID.running left; the notifier is then started through flock
// --no-fork (notifier.ts), which creates ID.running and holds its lock for as long as the
// notifier runs, even when the process delivering it died. ID.running exists only once the
// notifier was started, so the next delivery reads the two: a lock still held means that
// notifier is still at work (wait for it, in order); a free lock means it ran and ended after
// its deliverer died, and the event counts as delivered (the exit status died with the
// deliverer: it is not retried); no ID.running means it never started: retried. The pid
// recorded after the start ("running") cannot tell that: a deliverer killed between the start
// and that record leaves "starting" for a notifier that did its work.
// A power cut during a delivery (its notifier running, or ended before its move to sent/ was on
// the disk) leaves the same files, the lock free because the machine restarted: the attempt
// records the boot it was made in, and a free lock under an earlier boot's attempt, or one that
// names no boot (an older build's, a host without /proc's boot id), sends the event again (at
// least once: whether that notifier did its work is unknowable; lost is worse). A held lock is
// waited for whatever the record says: it proves this boot.
// Success writes the event as delivered into sent/ID.json (durably), then removes ID.json and
// the attempt file. The event is read and validated once (readEventFile): the notifier and sent/
// get those validated fields, never the file again by path (notifier.ts).
//
// A SIGTERM while a notifier runs (systemd stopping the refresh unit, which unlock restarts on
// every plug: KillMode=mixed signals the refresh alone, then SIGKILLs what is left of the unit)
// waits for that notifier and records its event before exiting 143; the rest stay queued. Exiting
// at once would leave the notifier to that SIGKILL before it did its work, and the next delivery
// would count its event as delivered (seen in the VM: a second plug while the first plug's
// notifier ran). At any other moment a SIGTERM exits at once: Bun runs a signal handler only
// between event-loop turns, so one turn is yielded before each notifier starts and before the
// handler is removed, where a SIGTERM that came meanwhile exits with no notifier running.
import {
  closeSync,
  existsSync,
  constants,
  openSync,
  readdirSync,
  renameSync,
  truncateSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { errnoCode, errorMessage } from "../errors.ts";
import type { Log } from "../log.ts";
import { syncDirectory, writeFileAtomic } from "../state/atomic.ts";
import { tryLockExclusive } from "../state/lock.ts";
import { readTextIfExists } from "../state/safe-fs.ts";
import { eventText, runNotifier } from "./notifier.ts";
import {
  ensureEventsDir,
  eventsDir,
  pendingEventIds,
  readEventFile,
  SENT_DIR,
} from "./queue.ts";
import { type ChangerEvent, summarizeEvent } from "./types.ts";

/** How many delivered events sent/ keeps (for status and for the curious). */
const SENT_KEPT = 100;
/** An attempt record is a state, two times, a count, a pid and a short error. */
export const MAX_ATTEMPT_BYTES = 4096;
const { O_RDWR, O_CREAT, O_NOFOLLOW, O_NOCTTY } = constants;

export interface DeliveryOutcome {
  delivered: number;
  /** Still queued: a notifier failed or is still running, or no [notify] command is set. */
  pending: number;
  /** Why delivery stopped before the queue was empty. */
  stopped?: string;
}

interface Attempt {
  state: "starting" | "running" | "failed";
  startedAt: number;
  failures: number;
  /** The boot it was made in (currentBootId): one of an earlier boot was cut by the restart. */
  bootId?: string;
  pid?: number;
  error?: string;
}

export async function deliverEvents(
  config: Config,
  log: Log,
): Promise<DeliveryOutcome> {
  const dir = eventsDir(config.work_dir);
  const ids = pendingEventIds(config.work_dir);
  if (ids.length === 0) return { delivered: 0, pending: 0 };
  if (!config.notify || config.notify.command.length === 0)
    return {
      delivered: 0,
      pending: ids.length,
      stopped: "no [notify] command is set",
    };
  ensureEventsDir(dir);
  const lockFd = openLockFile(join(dir, "deliver.lock"));
  process.on("SIGTERM", onTerm);
  try {
    if (!tryLockExclusive(lockFd))
      return {
        delivered: 0,
        pending: ids.length,
        stopped: "another delivery is running",
      };
    ensureEventsDir(join(dir, SENT_DIR));
    let delivered = 0;
    // Read again under the lock: an earlier holder may have delivered some meanwhile.
    const queued = pendingEventIds(config.work_dir);
    for (const [i, id] of queued.entries()) {
      const outcome = await deliverOne(config, log, dir, id);
      if (terminated) {
        log.warn(
          `stopped (SIGTERM) once the notifier of event ${id} had ended; ${pendingEventIds(config.work_dir).length} event(s) left for the next delivery`,
        );
        process.exit(TERM_EXIT);
      }
      if (outcome === SET_ASIDE) continue;
      if (outcome)
        return { delivered, pending: queued.length - i, stopped: outcome };
      delivered += 1;
    }
    trimSent(join(dir, SENT_DIR));
    removeStrayAttempts(dir);
    return { delivered, pending: 0 };
  } finally {
    await nextTurn();
    process.off("SIGTERM", onTerm);
    closeSync(lockFd);
  }
}

/** 128 + SIGTERM, what the default action would have made of it. */
const TERM_EXIT = 143;
/** A notifier of this process runs (from its spawn to its end, with no await in between). */
let notifierRunning = false;
/** A SIGTERM came while it ran. */
let terminated = false;

/** One event-loop turn: a SIGTERM that came during synchronous work is handled here. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function onTerm(): void {
  if (!notifierRunning) process.exit(TERM_EXIT);
  terminated = true;
}

/** A damaged event moved out of the queue: neither delivered nor pending. */
const SET_ASIDE = Symbol("set aside");

/**
 * Delivers one event; returns why it is still queued, undefined once it is delivered, or
 * SET_ASIDE for a damaged one.
 */
async function deliverOne(
  config: Config,
  log: Log,
  dir: string,
  id: string,
): Promise<string | undefined | typeof SET_ASIDE> {
  const attemptPath = join(dir, `${id}.attempt`);
  const runningPath = join(dir, `${id}.running`);
  const eventPath = join(dir, `${id}.json`);
  const event = readEventFile(eventPath);
  if (!event) {
    log.error(
      `event ${id} is damaged or unreadable; set aside as ${id}.damaged`,
    );
    renameSync(eventPath, join(dir, `${id}.damaged`));
    return SET_ASIDE;
  }
  const previous = readAttempt(attemptPath);
  if (previous && previous.state !== "failed") {
    const verdict = earlierAttempt(config, previous, runningPath);
    // A lock still held proves its notifier runs in this boot: wait for it, whatever the record.
    if (verdict === "busy")
      return `the notifier started for event ${id} by an earlier delivery is still running`;
    if (verdict === "done") {
      const boot = currentBootId();
      if (previous.bootId !== undefined && previous.bootId === boot) {
        log.warn(
          `event ${id}: its delivery was interrupted while the notifier (pid ${previous.pid ?? "?"}) ran; the notifier has ended, so the event counts as delivered`,
        );
        markSent(dir, id, event);
        return undefined;
      }
      // The lock is free because the machine restarted, not because the notifier ended (or the
      // record cannot say which boot it was): whether it did its work is unknown. Again.
      log.warn(
        previous.bootId === undefined || boot === undefined
          ? `event ${id}: its delivery was interrupted while the notifier (pid ${previous.pid ?? "?"}) ran, and no boot id tells whether the machine restarted since; delivered again, with the same MAGCHANGER_EVENT_ID`
          : `event ${id}: the machine restarted while its notifier ran (pid ${previous.pid ?? "?"}); delivered again, with the same MAGCHANGER_EVENT_ID`,
      );
    }
  }
  return notifyOnce(config, log, dir, id, event, previous?.failures ?? 0);
}

/** One run of the notifier for event id, recorded in its .attempt file before and after. */
async function notifyOnce(
  config: Config,
  log: Log,
  dir: string,
  id: string,
  event: ChangerEvent,
  failures: number,
): Promise<string | undefined> {
  await nextTurn();
  const attemptPath = join(dir, `${id}.attempt`);
  const runningPath = join(dir, `${id}.running`);
  // Gone before "starting" is durable (writeAttempt fsyncs the directory): from here on an
  // ID.running is the started notifier's own.
  safeUnlink(runningPath);
  const startedAt = Date.now();
  const bootId = currentBootId();
  const boot = bootId ? { bootId } : {};
  writeAttempt(attemptPath, {
    state: "starting",
    startedAt,
    failures,
    ...boot,
  });
  notifierRunning = true;
  const result = await runNotifier(config, event, id, runningPath, (pid) =>
    writeAttempt(attemptPath, {
      state: "running",
      startedAt,
      failures,
      pid,
      ...boot,
    }),
  ).finally(() => {
    notifierRunning = false;
  });
  // Without the pid the attempt stays "starting"; ID.running still tells what became of it.
  if (result.recordError)
    log.warn(
      `event ${id}: could not record its notifier's pid (${result.recordError}); the notifier was waited for all the same`,
    );
  if (result.ok) {
    log.info(`event ${id} delivered: ${summarizeEvent(event, config.name)}`);
    markSent(dir, id, event);
    return undefined;
  }
  try {
    writeAttempt(attemptPath, {
      state: "failed",
      startedAt,
      failures: failures + 1,
      ...(result.error ? { error: result.error } : {}),
    });
  } catch (error) {
    // Unrecorded (a full work dir), the failure would read as a notifier that ended after its
    // deliverer died: counted as sent. With no attempt (or an empty one, read as a failure:
    // neither needs a free block) the next delivery sends it again.
    forgetAttempt(attemptPath, log, id);
    throw error;
  }
  log.error(
    `event ${id}: the notifier failed (attempt ${failures + 1}): ${result.error}; retried by the next refresh`,
  );
  return `the notifier failed: ${result.error}`;
}

/** What became of an attempt whose deliverer died: its notifier still runs, ended, or never began. */
function earlierAttempt(
  config: Config,
  attempt: Attempt,
  runningPath: string,
): "busy" | "done" | "retry" {
  let fd: number;
  try {
    fd = openSync(runningPath, O_RDWR | O_NOFOLLOW | O_NOCTTY);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
    // No ID.running: the notifier never started (a recorded pid says otherwise: it did).
    return attempt.state === "running" ? "done" : "retry";
  }
  try {
    if (!tryLockExclusive(fd)) {
      // A notifier past its timeout (or a daemon it left holding the lock) is not waited for.
      const overdue =
        Date.now() - attempt.startedAt > notifyTimeout(config) * 1000 + 10_000;
      return overdue ? "done" : "busy";
    }
    // Free: the notifier started (it made the file) and has ended, its pid recorded or not.
    return "done";
  } finally {
    closeSync(fd);
  }
}

/**
 * This boot's id (the kernel's random one per boot), or undefined where /proc does not have it.
 * An attempt of an earlier boot was ended by the restart, not by its notifier.
 */
export function currentBootId(): string | undefined {
  bootId ??= readTextIfExists(BOOT_ID_PATH, { maxBytes: 64 })?.trim() ?? "";
  return bootId === "" ? undefined : bootId;
}
const BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id";
let bootId: string | undefined;

export function notifyTimeout(config: Config): number {
  return config.notify?.timeout ?? 60;
}

/** sent/ keeps what the notifier got (not whatever ID.json holds by now); then the queue entry goes. */
function markSent(dir: string, id: string, event: ChangerEvent): void {
  writeFileAtomic(join(dir, SENT_DIR, `${id}.json`), eventText(event), 0o600);
  safeUnlink(join(dir, `${id}.json`));
  syncDirectory(dir);
  safeUnlink(join(dir, `${id}.attempt`));
  safeUnlink(join(dir, `${id}.running`));
}

function forgetAttempt(path: string, log: Log, id: string): void {
  try {
    safeUnlink(path);
  } catch (unlinkError) {
    try {
      truncateSync(path, 0);
    } catch {
      log.error(
        `event ${id}: its notifier failed, and neither recording that nor removing ${path} worked (${errorMessage(unlinkError)}); remove that file so the event is sent again`,
      );
    }
  }
}

function readAttempt(path: string): Attempt | undefined {
  const text = readTextIfExists(path, { maxBytes: MAX_ATTEMPT_BYTES });
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Attempt;
    if (typeof value.state === "string" && typeof value.startedAt === "number")
      return value;
  } catch {
    // damaged: treated as a failed attempt, so the event is retried
  }
  return { state: "failed", startedAt: 0, failures: 1 };
}

function writeAttempt(path: string, attempt: Attempt): void {
  writeFileAtomic(path, `${JSON.stringify(attempt)}\n`, 0o600);
}

function openLockFile(path: string): number {
  return openSync(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY, 0o600);
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
}

function trimSent(sent: string): void {
  const names = readdirSync(sent)
    .filter((n) => n.endsWith(".json"))
    .sort();
  for (const name of names.slice(0, Math.max(0, names.length - SENT_KEPT)))
    safeUnlink(join(sent, name));
}

/**
 * A delivery killed after moving its event to sent/ leaves the attempt and lock files behind;
 * one killed while writing an attempt leaves writeFileAtomic's temp file. Attempts are written
 * only under deliver.lock, which the caller holds: every such temp file is a dead delivery's.
 */
function removeStrayAttempts(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/^\.\d{15}-\d{1,10}-\d{1,10}\.attempt\.tmp-\d+-\d+$/.test(name)) {
      safeUnlink(join(dir, name));
      continue;
    }
    const m = /^(\d{15}-\d{1,10}-\d{1,10})\.(attempt|running)$/.exec(name);
    if (m && !existsSync(join(dir, `${m[1]}.json`)))
      safeUnlink(join(dir, name));
  }
}
