// Runs the compiled binary (dist/magchanger) as Bacula would: an argv array, no shell, stdin
// closed, a small fixed environment. Builds it first when it is missing.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const BINARY =
  process.env.MAGCHANGER_BINARY ?? join(REPO, "dist/magchanger");

/** The environment every run gets: nothing of the test runner's (no BUN_OPTIONS, no cwd files). */
export const BASE_ENV: Record<string, string> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C",
};

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  signal: string | null;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, {
    withFileTypes: true,
    recursive: true,
  })) {
    if (entry.isFile())
      newest = Math.max(
        newest,
        statSync(join(entry.parentPath, entry.name)).mtimeMs,
      );
  }
  return newest;
}

let checked = false;
/**
 * The binary, built when missing. A binary older than src/ is used as it is, with a warning:
 * `bun run test` builds first, and rebuilding here could replace it under other running tests.
 */
export function ensureBinary(): string {
  if (checked || process.env.MAGCHANGER_BINARY) return BINARY;
  checked = true;
  if (existsSync(BINARY)) {
    if (statSync(BINARY).mtimeMs < newestSource(join(REPO, "src"))) {
      console.warn(
        `${BINARY} is older than src/: run \`bun run build\` (or \`bun run test\`) to test the current code`,
      );
    }
    return BINARY;
  }
  const build = Bun.spawnSync([process.execPath, "build.ts"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 120_000,
  });
  if (build.exitCode !== 0)
    throw new Error(`building ${BINARY} failed: ${build.stderr.toString()}`);
  return BINARY;
}

export function spawnBinary(
  args: string[],
  options: RunOptions = {},
): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  return Bun.spawn([ensureBinary(), ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: options.env ?? BASE_ENV,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    timeout: options.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
  });
}

export async function runBinary(
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  const child = spawnBinary(args, options);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return {
    stdout,
    stderr,
    exitCode,
    signal: child.signalCode === null ? null : String(child.signalCode),
    ms: performance.now() - started,
  };
}

/** Runs any tool with an argv array and fails loudly: for test setup (mount, mkfs, ...). */
export function tool(
  argv: string[],
  options: { okCodes?: number[]; timeoutMs?: number } = {},
): string {
  const result = Bun.spawnSync(argv, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: BASE_ENV,
    timeout: options.timeoutMs ?? 60_000,
  });
  if (!(options.okCodes ?? [0]).includes(result.exitCode ?? -1)) {
    throw new Error(
      `${argv.join(" ")} exited ${result.exitCode}: ${result.stderr.toString().trim()}`,
    );
  }
  return result.stdout.toString();
}
