// Runs the [notify] command for one event: argv from the config (no shell), the event's JSON
// file as stdin, its summary in the environment, the delivery's lock as fd 3 (see deliver.ts),
// a bounded run time (SIGTERM, then SIGKILL), stderr kept for the log.
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
  const argv = config.notify?.command ?? [];
  const timeout = config.notify?.timeout ?? 60;
  const stdin = openSync(eventPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  let child: Bun.Subprocess<number, "ignore", "pipe">;
  try {
    child = Bun.spawn(argv, {
      stdio: [stdin, "ignore", "pipe", lockFd],
      cwd: "/",
      env: {
        ...toolEnvironment(),
        MAGCHANGER_EVENT_SUMMARY: printable(summarizeEvent(event, config.name)),
        MAGCHANGER_EVENT_KIND: event.kind,
        MAGCHANGER_EVENT_ID: id,
        MAGCHANGER_CHANGER: config.name,
      },
    }) as unknown as Bun.Subprocess<number, "ignore", "pipe">;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      error:
        code === "ENOENT"
          ? `${argv[0]} is not installed (not found); fix notify.command in ${config.source}`
          : `cannot run ${argv[0]}: ${(error as Error).message}`,
    };
  } finally {
    closeSync(stdin);
  }
  onStarted(child.pid);
  let timedOut = false;
  const timeoutMs = timeout * 1000;
  const term = setTimeout(() => {
    timedOut = true;
    child.kill("SIGTERM");
  }, timeoutMs);
  const kill = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 5000);
  const stderr = readBounded(child.stderr);
  const exitCode = await child.exited;
  clearTimeout(term);
  clearTimeout(kill);
  const text = await Promise.race([stderr, Bun.sleep(1000).then(() => "")]);
  if (exitCode === 0 && !timedOut) return { ok: true };
  const why = timedOut
    ? `${argv[0]} did not finish within notify.timeout (${timeout} s)`
    : `${argv[0]} exited with status ${exitCode}`;
  const said = printable(text.trim()).slice(0, 300);
  return { ok: false, error: said ? `${why}: ${said}` : why };
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
