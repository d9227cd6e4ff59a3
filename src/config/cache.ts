// The validated-config cache. Validating a config with zod costs ~15 ms of the compiled binary's
// start-up, on every volume open. A locked changer command stores the validated result in
// WORK_DIR/config.cache.json, keyed by a digest of the exact file text, its path and this build;
// later calls with the same text reuse it. Trusted only when not running as root, and only when
// the cache file belongs to the current user (or root) and nobody else can write it: the cache
// never gives a process more than its own user could already do.
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../state/atomic.ts";
import { readFdBounded, readTextBounded } from "../state/safe-fs.ts";
import { build } from "../version.ts";
import type { LoadedConfig } from "./load.ts";

const FILE = "config.cache.json";

export function configDigest(text: string, file: string): string {
  return `${build}:${Bun.hash(`${file}\0${text}`).toString(16)}`;
}

/** Where the unvalidated config says its work dir is (for finding the cache only). */
export function rawWorkDir(raw: unknown): string | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const { work_dir: workDir, name } = raw as {
    work_dir?: unknown;
    name?: unknown;
  };
  if (typeof workDir === "string") return workDir;
  return typeof name === "string" ? `/var/lib/magchanger/${name}` : undefined;
}

export function readConfigCache(
  workDir: string | undefined,
  digest: string,
): LoadedConfig | undefined {
  const uid = process.getuid?.();
  if (!workDir || uid === undefined || uid === 0 || !workDir.startsWith("/"))
    return undefined;
  let fd: number | undefined;
  try {
    // Never blocks on a FIFO or follows a link planted in the work dir.
    const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = constants;
    fd = openSync(join(workDir, FILE), O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
    const st = fstatSync(fd);
    if (
      !st.isFile() ||
      (st.uid !== uid && st.uid !== 0) ||
      (st.mode & 0o022) !== 0
    )
      return undefined;
    const entry = JSON.parse(
      readFdBounded(fd, FILE).toString("utf8"),
    ) as Partial<LoadedConfig>;
    if (
      entry.digest !== digest ||
      !entry.config ||
      entry.config.work_dir !== workDir
    )
      return undefined;
    return {
      config: entry.config,
      syntax: entry.syntax ?? "toml",
      notes: entry.notes ?? [],
      digest,
      cached: true,
    };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Stores a freshly validated config for later calls. Best effort: a failure only costs speed. */
export function writeConfigCache(loaded: LoadedConfig): void {
  if (loaded.cached) return;
  const path = join(loaded.config.work_dir, FILE);
  try {
    // Root never reads the cache, so it arrives here on every call: when the file already holds
    // this validation, write nothing (read-only commands write nothing, DESIGN property 4).
    const entry = JSON.parse(readTextBounded(path)) as {
      digest?: unknown;
    };
    if (entry.digest === loaded.digest) return;
  } catch {
    // missing or unreadable: write it
  }
  try {
    writeFileAtomic(
      path,
      `${JSON.stringify({ ...loaded, cached: false })}\n`,
      0o600,
    );
  } catch {
    // the next locked command tries again
  }
}
