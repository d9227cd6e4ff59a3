// Runs the [notify] command for one event: argv from the config (no shell), the event as JSON on
// stdin, its summary in the environment, a bounded run time (SIGTERM, then SIGKILL, to its whole
// process group), stderr kept for the log. It is started through util-linux's flock --no-fork,
// which creates ID.running, takes its lock and then becomes the notifier (execve, same pid): the
// lock is held for exactly as long as the notifier runs, and the file exists from before the
// notifier's first instruction, whoever dies when (see deliver.ts).
// What it gets is the event deliver.ts validated, never the file opened again by path: the
// run-as user owns events/ and could rename other bytes, or a FIFO, over it in between. Its
// stdin is those validated fields as a buffer (Bun hands the child a pipe or an anonymous memory
// file: nothing with a path), and every string it gets (argv, environment, stdin) passes the
// output rule: controls escaped (text.ts printable, jsonText).
import { errorMessage } from "../errors.ts";
import { accessSync, constants } from "node:fs";
import type { Config } from "../config/schema.ts";
import { toolEnvironment } from "../system/exec.ts";
import { jsonText, printable } from "../text.ts";
import type { ChangerEvent } from "./types.ts";
import { summarizeEvent } from "./types.ts";

const MAX_STDERR = 2048;
/** util-linux's flock(1), Essential on Debian; by absolute path like every tool. */
export const FLOCK = "/usr/bin/flock";

export interface NotifierResult {
  ok: boolean;
  error?: string;
  /** onStarted failed (its record of the pid): the notifier was waited for all the same. */
  recordError?: string;
}

/** The event as the notifier gets it on stdin (and sent/ keeps it): one escaped JSON line. */
export function eventText(event: ChangerEvent): string {
  return `${jsonText(event)}\n`;
}

/** The notifier's argv and environment for event id, every value escaped. */
export function notifierCall(
  config: Config,
  event: ChangerEvent,
  id: string,
): { argv: string[]; env: Record<string, string> } {
  const summary = printable(summarizeEvent(event, config.name));
  const kind = printable(event.kind);
  // {summary} and {kind} in an argument become the event's (one argv element each: no shell,
  // no splitting), so `mail -s "{summary}"` gets a subject without a wrapper script.
  const argv = (config.notify?.command ?? []).map((arg, i) =>
    i === 0
      ? arg
      : arg.replaceAll("{summary}", summary).replaceAll("{kind}", kind),
  );
  const env = {
    ...toolEnvironment(),
    MAGCHANGER_EVENT_SUMMARY: summary,
    MAGCHANGER_EVENT_KIND: kind,
    MAGCHANGER_EVENT_ID: printable(id),
    MAGCHANGER_CHANGER: printable(config.name),
  };
  return { argv, env };
}

/**
 * Runs the notifier for event id holding the lock of runningPath, which must not exist yet: it
 * is created by the start of the notifier, never before (deliver.ts reads that as "started").
 */
export async function runNotifier(
  config: Config,
  event: ChangerEvent,
  id: string,
  runningPath: string,
  onStarted: (pid: number) => void,
): Promise<NotifierResult> {
  const { argv, env } = notifierCall(config, event, id);
  const stdin = Buffer.from(eventText(event));
  const started = spawnNotifier(argv, env, stdin, runningPath, config.source);
  if ("error" in started) return { ok: false, error: started.error };
  // A started notifier is always waited for: thrown out of here, it would be left to whatever
  // kills this process (the unit's stop) half-way, its ID.running then free as if it had ended.
  let recordError: string | undefined;
  try {
    onStarted(started.child.pid);
  } catch (error) {
    recordError = errorMessage(error);
  }
  const recorded = recordError === undefined ? {} : { recordError };
  const timeout = config.notify?.timeout ?? 60;
  const { exitCode, timedOut, stderr } = await waitStopping(
    started.child,
    timeout * 1000,
  );
  if (exitCode === 0 && !timedOut) return { ok: true, ...recorded };
  const why = timedOut
    ? `${argv[0]} did not finish within notify.timeout (${timeout} s)`
    : `${argv[0]} exited with status ${exitCode}`;
  const said = printable(stderr.trim()).slice(0, 300);
  return { ok: false, error: said ? `${why}: ${said}` : why, ...recorded };
}

type Notifier = Bun.Subprocess<number, "ignore", "pipe">;

/** The program is there to run: else the error to act on (fix), before anything starts. */
function notRunnable(program: string, fix: string): string | undefined {
  try {
    accessSync(program, constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `${program} is not installed (not found); ${fix}`
      : `cannot run ${program}: ${(error as Error).message}`;
  }
}

/** The notifier started with the event on a pipe as stdin, through flock holding runningPath. */
function spawnNotifier(
  argv: string[],
  env: Record<string, string>,
  stdin: Buffer,
  runningPath: string,
  source: string,
): { child: Notifier } | { error: string } {
  const [program = ""] = argv;
  const why =
    notRunnable(program, `fix notify.command in ${source}`) ??
    notRunnable(FLOCK, "install util-linux, which has flock");
  if (why) return { error: why };
  try {
    // "--" then the file: flock reads no option after it, so the notifier's own options pass.
    const locked = [FLOCK, "--no-fork", "--nonblock", "--", runningPath];
    const child = Bun.spawn([...locked, ...argv], {
      stdio: [stdin, "ignore", "pipe"],
      // A process group of its own, so a timeout stops what it started too (mail's sendmail).
      detached: true,
      cwd: "/",
      env,
    }) as unknown as Notifier;
    return { child };
  } catch (error) {
    return { error: `cannot run ${program}: ${(error as Error).message}` };
  }
}

/** Waits for the notifier; past timeoutMs its whole group gets SIGTERM, 5 s later SIGKILL. */
async function waitStopping(
  child: Notifier,
  timeoutMs: number,
): Promise<{ exitCode: number; timedOut: boolean; stderr: string }> {
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid, signal);
    } catch {} // ESRCH: the group has ended
  };
  let timedOut = false;
  const term = setTimeout(() => {
    timedOut = true;
    group("SIGTERM");
  }, timeoutMs);
  const kill = setTimeout(() => group("SIGKILL"), timeoutMs + 5000);
  const stderr = readBounded(child.stderr);
  const exitCode = await child.exited;
  clearTimeout(term);
  clearTimeout(kill);
  // Left running, what a stopped notifier started could still send the event the retry sends.
  if (timedOut) group("SIGKILL");
  const text = await Promise.race([stderr, Bun.sleep(1000).then(() => "")]);
  return { exitCode, timedOut, stderr: text };
}

async function readBounded(
  stream: ReadableStream<Uint8Array>,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    if (total < MAX_STDERR) chunks.push(chunk.subarray(0, MAX_STDERR - total));
    total += chunk.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}
