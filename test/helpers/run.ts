// Runs the compiled binary (dist/magchanger) as Bacula would: an argv array, no shell, stdin
// closed, a small fixed environment. Builds it first when it is missing.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  statSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { testRoot } from "./tmp.ts";

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

let forUsers: string | undefined;
/**
 * The binary at a path every user can traverse, for tests that run it as an unprivileged user
 * (a storage daemon's bacula, setpriv, Bun.spawn with uid): the checkout may sit below a 0700
 * directory (a clone into `mktemp -d`), where exec by others fails with EACCES. A hard link (a
 * copy across filesystems) below the run's 0755 temp root, made once per run.
 */
export function binaryForUsers(): string {
  if (forUsers) return forUsers;
  const source = ensureBinary();
  const target = join(testRoot(), "bin", "magchanger");
  mkdirSync(dirname(target), { recursive: true });
  chmodSync(dirname(target), 0o755);
  if (!existsSync(target)) {
    try {
      linkSync(source, target);
    } catch {
      copyFileSync(source, target);
    }
  }
  chmodSync(target, 0o755);
  forUsers = target;
  return target;
}

/** The first existing directory above path that others cannot traverse (no o+x), or undefined. */
export function untraversableParent(path: string): string | undefined {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return dir;
    if (dir === dirname(dir)) return undefined;
  }
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
