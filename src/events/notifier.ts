// Runs the [notify] command for one event: argv from the config (no shell), the event's JSON
// file as stdin, its summary in the environment, the delivery's lock as fd 3 (see deliver.ts),
// a bounded run time (SIGTERM, then SIGKILL, to its whole process group), stderr kept for the
// log.
import { closeSync, constants, openSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import { toolEnvironment } from "../system/exec.ts";
import { printable } from "../text.ts";
import type { ChangerEvent } from "./types.ts";
import { summarizeEvent } from "./types.ts";

const MAX_STDERR = 2048;

export interface NotifierResult {
  ok: boolean;
  error?: string;
}

export async function runNotifier(
  config: Config,
  event: ChangerEvent,
  id: string,
  eventPath: string,
  lockFd: number,
  onStarted: (pid: number) => void,
): Promise<NotifierResult> {
  const summary = printable(summarizeEvent(event, config.name));
  // {summary} and {kind} in an argument become the event's (one argv element each: no shell,
  // no splitting), so `mail -s "{summary}"` gets a subject without a wrapper script.
  const argv = (config.notify?.command ?? []).map((arg, i) =>
    i === 0
      ? arg
      : arg.replaceAll("{summary}", summary).replaceAll("{kind}", event.kind),
  );
  const env = {
    ...toolEnvironment(),
    MAGCHANGER_EVENT_SUMMARY: summary,
    MAGCHANGER_EVENT_KIND: event.kind,
    MAGCHANGER_EVENT_ID: id,
    MAGCHANGER_CHANGER: config.name,
  };
  const started = spawnNotifier(argv, env, eventPath, lockFd, config.source);
  if ("error" in started) return { ok: false, error: started.error };
  onStarted(started.child.pid);
  const timeout = config.notify?.timeout ?? 60;
  const { exitCode, timedOut, stderr } = await waitStopping(
    started.child,
    timeout * 1000,
  );
  if (exitCode === 0 && !timedOut) return { ok: true };
  const why = timedOut
    ? `${argv[0]} did not finish within notify.timeout (${timeout} s)`
    : `${argv[0]} exited with status ${exitCode}`;
  const said = printable(stderr.trim()).slice(0, 300);
  return { ok: false, error: said ? `${why}: ${said}` : why };
}

type Notifier = Bun.Subprocess<number, "ignore", "pipe">;

/** The notifier started with the event file on stdin and the delivery lock as fd 3. */
function spawnNotifier(
  argv: string[],
  env: Record<string, string>,
  eventPath: string,
  lockFd: number,
  source: string,
): { child: Notifier } | { error: string } {
  const stdin = openSync(eventPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const child = Bun.spawn(argv, {
      stdio: [stdin, "ignore", "pipe", lockFd],
      // A process group of its own, so a timeout stops what it started too (mail's sendmail).
      detached: true,
      cwd: "/",
      env,
    }) as unknown as Notifier;
    return { child };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      error:
        code === "ENOENT"
          ? `${argv[0]} is not installed (not found); fix notify.command in ${source}`
          : `cannot run ${argv[0]}: ${(error as Error).message}`,
    };
  } finally {
    closeSync(stdin);
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
