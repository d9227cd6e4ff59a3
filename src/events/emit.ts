// The events raised where a command fails: a state file that cannot be written (the seed's
// ENOSPC on the work dir's filesystem) and a refresh that failed. Both never throw: the command
// fails for its own reason, with its own one-line error.
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import { StateWriteError, errorMessage } from "../errors.ts";
import type { Log } from "../log.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readTextIfExists } from "../state/safe-fs.ts";
import { enqueueEvent, ensureEventsDir, eventsDir } from "./queue.ts";

/** The last refresh failure told: the timer's retries of one failure raise one event. */
const LAST_FAILURE = "refresh-failed.last";
/** One failure message (they are cut to a line). */
export const MAX_LAST_FAILURE_BYTES = 8192;

/** Queues state-write-failed when error is one; a failure to queue is only logged. */
export function noteStateWriteFailure(
  workDir: string,
  error: unknown,
  log: Log,
): void {
  if (!(error instanceof StateWriteError)) return;
  const match = /^cannot write (.+?): (.*)$/s.exec(error.message);
  enqueueEvent(
    workDir,
    {
      kind: "state-write-failed",
      path: match?.[1] ?? workDir,
      error: match?.[2] ?? error.message,
      at: new Date().toISOString(),
    },
    log,
  );
}

export function noteRefreshFailure(
  workDir: string,
  error: unknown,
  log: Log,
): void {
  const message = errorMessage(error);
  const last = join(eventsDir(workDir), LAST_FAILURE);
  try {
    if (
      readTextIfExists(last, { maxBytes: MAX_LAST_FAILURE_BYTES }) === message
    )
      return;
    ensureEventsDir(eventsDir(workDir));
    writeFileAtomic(last, message, 0o600);
  } catch {
    // cannot remember it: tell it again next time rather than never
  }
  noteStateWriteFailure(workDir, error, log);
  enqueueEvent(
    workDir,
    {
      kind: "refresh-failed",
      error: message,
      at: new Date().toISOString(),
    },
    log,
  );
}

/** A refresh succeeded: the next failure is news again. */
export function clearRefreshFailure(workDir: string): void {
  try {
    unlinkSync(join(eventsDir(workDir), LAST_FAILURE));
  } catch {
    // none recorded
  }
}
