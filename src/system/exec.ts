// The one way to run an external tool: an argv array (never a shell), a timeout, stdout and
// stderr drained while the child runs (a child that fills a 64 KiB pipe otherwise blocks forever),
// secrets passed through stdin or files, never argv. A tool gets a minimal environment (fixed
// PATH, LANG=C, a HOME of its own: see toolHome) and cwd /, not whatever the caller (udev,
// autofs, an admin's shell in some directory, root's HOME) happened to have.
import { ToolError } from "../errors.ts";
import { SAFE_PATH, toolHome } from "./identity.ts";

export interface ExecOptions {
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  stdin?: string;
}

export interface ExecResult {
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

/** The environment a tool gets unless the caller passes its own. */
export function toolEnvironment(): Record<string, string> {
  return { PATH: SAFE_PATH, LANG: "C", HOME: toolHome() };
}

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
      env: options.env ?? toolEnvironment(),
      cwd: "/",
      // Same process group as magchanger: whoever kills us (systemd, udev, a test) kills the
      // tool too. Grandchildren that outlive a timed-out tool are bounded by the drain below.
    });
  } catch (error) {
    throw new ToolError(
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? `${file} is not installed (not found); install it or set its path in the config`
        : `cannot run ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let timedOut = false;
  const killChild = () => child.kill("SIGKILL");
  const timer = setTimeout(() => {
    timedOut = true;
    killChild();
  }, timeoutMs);
  if (
    options.stdin !== undefined &&
    child.stdin &&
    typeof child.stdin !== "number"
  ) {
    try {
      child.stdin.write(options.stdin);
      await child.stdin.end();
    } catch {
      // the child exited without reading its input: its exit status tells the story
    }
  }
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  const exitCode = await child.exited;
  // A background grandchild may keep the pipes open after the child exits: bound that wait.
  let drainTimer: Timer | undefined;
  const drained = await Promise.race([
    Promise.all([stdout, stderr]),
    new Promise<undefined>((resolve) => {
      drainTimer = setTimeout(resolve, timedOut ? 100 : 2000);
    }),
  ]);
  // A pending timer would keep the process alive: every udev or autofs call would last 2 s.
  clearTimeout(drainTimer);
  clearTimeout(timer);
  if (!drained) killChild();
  const [out, err] = drained ?? ["", ""];
  return {
    exitCode,
    signal: child.signalCode === null ? null : String(child.signalCode),
    stdout: out,
    stderr: err,
    timedOut,
    ms: performance.now() - started,
  };
};
