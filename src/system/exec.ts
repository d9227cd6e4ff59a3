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

/**
 * The most of a tool's stdout kept; past it the tool is stopped and exec fails naming it.
 * eject runs bconsole as root, and bconsole relays what the storage daemon (bacula's) says.
 * The biggest real output is refresh's bconsole run: `list volumes` twice (the pool, then all)
 * plus `status storage`; 9.6.7 prints about 200 bytes a volume, so 100,000 volumes are ~40 MB.
 */
export const MAX_TOOL_STDOUT = 64 * 1024 * 1024;
/** stderr is only ever quoted in a message: the rest is dropped. */
const MAX_TOOL_STDERR = 1024 * 1024;

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
  let overflow = false;
  const stdout = readCapped(child.stdout, MAX_TOOL_STDOUT, () => {
    overflow = true;
    killChild();
  });
  const stderr = readCapped(child.stderr, MAX_TOOL_STDERR);
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
  if (overflow)
    throw new ToolError(
      `${file} printed more than ${MAX_TOOL_STDOUT / 1024 / 1024} MiB on stdout; it was stopped and its output not used`,
    );
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

/** The stream's first cap bytes as text; the rest is drained and dropped, onOver told once. */
async function readCapped(
  stream: ReadableStream<Uint8Array>,
  cap: number,
  onOver?: () => void,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    if (total < cap) chunks.push(chunk.subarray(0, cap - total));
    if (total <= cap && total + chunk.length > cap) onOver?.();
    total += chunk.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}
