// Process plumbing for the Bacula harness: run a tool (argv, timeout, concurrent drain), start a
// daemon in its own process group, and kill process groups. Never a shell.
import { spawn as spawnChild, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

export interface ToolResult {
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface RunToolOptions {
  stdin?: string;
  timeoutMs: number;
  env?: Record<string, string>;
  /** Holds the child while it runs, so its owner can kill it (a harness stopped mid-call). */
  running?: Set<Bun.Subprocess>;
  /** Abort kills the child (SIGKILL); the result then says timedOut: false, signal SIGKILL. */
  signal?: AbortSignal;
}

/** Runs argv to completion; stdout and stderr are drained while it runs; SIGKILL on timeout. */
export async function runTool(
  argv: string[],
  opts: RunToolOptions,
): Promise<ToolResult> {
  const started = performance.now();
  const proc = Bun.spawn(argv, {
    stdin:
      opts.stdin === undefined
        ? "ignore"
        : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    ...(opts.env ? { env: opts.env } : {}),
  });
  opts.running?.add(proc);
  const abort = () => proc.kill("SIGKILL");
  opts.signal?.addEventListener("abort", abort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs);
  try {
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return {
      argv,
      exitCode: proc.exitCode,
      signal: proc.signalCode === null ? null : String(proc.signalCode),
      stdout,
      stderr,
      timedOut,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
    opts.running?.delete(proc);
    opts.signal?.removeEventListener("abort", abort);
  }
}

export function describeFailure(r: ToolResult): string {
  const how = r.timedOut
    ? `timed out after ${r.ms} ms`
    : r.signal
      ? `killed by ${r.signal}`
      : `exit ${r.exitCode}`;
  return `${r.argv.join(" ")}: ${how}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

export function tail(text: string, max = 4000): string {
  return text.length <= max ? text : `...${text.slice(-max)}`;
}

export interface Daemon {
  name: string;
  child: ChildProcess;
  pid: number;
  outputFile: string;
}

/**
 * Starts a long-running daemon as the leader of a new process group (setsid), so that killing
 * the group also kills whatever it spawned (the SD's Changer Command children). Its stdout and
 * stderr go to outputFile, which the kernel drains for us. unref(): a forgotten harness must not
 * keep `bun test` alive; the exit hooks in harness.ts kill the group instead.
 */
export function startDaemon(
  name: string,
  argv: string[],
  outputFile: string,
): Daemon {
  const fd = openSync(outputFile, "a");
  try {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error(`startDaemon(${name}): empty argv`);
    const child = spawnChild(cmd, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    if (child.pid === undefined)
      throw new Error(`${name}: spawn ${cmd} failed`);
    child.unref();
    child.on("error", () => {});
    return { name, child, pid: child.pid, outputFile };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True while the process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return (
      stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
    );
  } catch {
    return false;
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}
