// The one way to run an external tool: an argv array (never a shell), a timeout, stdout and
// stderr drained while the child runs (a child that fills a 64 KiB pipe otherwise blocks forever),
// secrets passed through stdin or files, never argv.
import { ToolError } from "../errors.ts";

export interface ExecOptions {
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
  /** Exit codes that are not failures (default [0]). */
  okCodes?: number[];
}

export interface ExecResult {
  argv: string[];
  exitCode: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export type Exec = (
  argv: string[],
  options?: ExecOptions,
) => Promise<ExecResult>;

const DEFAULT_TIMEOUT_MS = 30_000;

/** Runs argv and returns its result whatever the exit code; throws only if it cannot start. */
export const exec: Exec = async (argv, options = {}) => {
  const [file] = argv;
  if (!file) throw new ToolError("internal: exec called with an empty argv");
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let child: Bun.Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  try {
    child = Bun.spawn(argv, {
      stdin: options.stdin === undefined ? "ignore" : "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
  } catch (error) {
    throw new ToolError(
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? `${file} is not installed (not found); install it or set its path in the config`
        : `cannot run ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (
    options.stdin !== undefined &&
    child.stdin &&
    typeof child.stdin !== "number"
  ) {
    child.stdin.write(options.stdin);
    await child.stdin.end();
  }
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const ms = performance.now() - started;
  return {
    argv,
    exitCode,
    signal: child.signalCode === null ? null : String(child.signalCode),
    stdout,
    stderr,
    timedOut: child.signalCode === "SIGKILL" && ms >= timeoutMs - 5,
    ms,
  };
};

/** Runs argv and throws a ToolError naming the tool, the exit status and its last stderr line. */
export async function execChecked(
  argv: string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const result = await exec(argv, options);
  const ok = options.okCodes ?? [0];
  if (result.timedOut) {
    throw new ToolError(
      `${argv[0]} timed out after ${Math.round(result.ms / 1000)} s and was killed`,
    );
  }
  if (!ok.includes(result.exitCode)) {
    const detail = lastLine(result.stderr) || lastLine(result.stdout);
    throw new ToolError(
      `${argv[0]} ${argv[1] ?? ""} failed with exit ${result.exitCode}${detail ? `: ${detail}` : ""}`.replace(
        /\s+failed/,
        " failed",
      ),
    );
  }
  return result;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return (lines[lines.length - 1] ?? "").trim().slice(0, 300);
}
