// The validated-config cache. Validating a config with zod costs ~15 ms of the compiled binary's
// start-up, on every volume open. A locked changer command stores the validated result in
// WORK_DIR/config.cache.json, keyed by a digest of the exact file text, its path and this build;
// later calls with the same text reuse it. Trusted only when not running as root, and only when
// the cache file belongs to the current user (or root) and nobody else can write it: the cache
// never gives a process more than its own user could already do. An entry is used only when it
// is what this build's validation stored: a CRC-32 over the digest and the validated result
// (re-serialized, so exactly what is used is what is checked), and the shape the hot path
// relies on checked again. Anything else (an edit in place, a truncation, a shape zod would
// refuse) is no cache: the config is validated again, and the next locked command rewrites it.
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../state/atomic.ts";
import { readFdBounded, readTextBounded } from "../state/safe-fs.ts";
import { build } from "../version.ts";
import type { Config } from "./schema.ts";

export type ConfigSyntax = "toml" | "vchanger-0.8" | "vchanger-1.0";

/** A config as read (config/load.ts), from zod or from this cache. */
export interface LoadedConfig {
  config: Config;
  syntax: ConfigSyntax;
  /** vchanger keys that were mapped, defaulted or kept in [legacy]: for the log. */
  notes: string[];
  /** Identifies the exact file text this config was validated from. */
  digest: string;
  /** True when it came from the validated-config cache instead of zod. */
  cached: boolean;
}

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

interface CacheEntry {
  digest: string;
  check: number;
  config: LoadedConfig["config"];
  syntax: ConfigSyntax;
  notes: string[];
}

const SYNTAXES: readonly unknown[] = ["toml", "vchanger-0.8", "vchanger-1.0"];

function entryCheck(
  digest: string,
  config: unknown,
  syntax: unknown,
  notes: unknown,
): number {
  return Bun.hash.crc32(
    `${digest}\n${JSON.stringify({ config, syntax, notes })}`,
  );
}

/** The entry as a LoadedConfig when it is this build's validation of `digest`, else undefined. */
function verifyEntry(
  value: unknown,
  digest: string,
  workDir: string,
): LoadedConfig | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return undefined;
  const e = value as Partial<CacheEntry>;
  const c = e.config as Partial<LoadedConfig["config"]> | undefined;
  if (
    e.digest !== digest ||
    typeof c !== "object" ||
    c === null ||
    c.work_dir !== workDir ||
    !Number.isInteger(c.drives) ||
    (c.drives as number) < 1 ||
    (c.drives as number) > 64 ||
    !Array.isArray(c.magazine) ||
    c.magazine.length === 0 ||
    !SYNTAXES.includes(e.syntax) ||
    !Array.isArray(e.notes) ||
    !e.notes.every((n) => typeof n === "string") ||
    e.check !== entryCheck(digest, e.config, e.syntax, e.notes)
  )
    return undefined;
  return {
    config: e.config as LoadedConfig["config"],
    syntax: e.syntax as ConfigSyntax,
    notes: e.notes,
    digest,
    cached: true,
  };
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
    return verifyEntry(
      JSON.parse(readFdBounded(fd, FILE, undefined, st.size).toString("utf8")),
      digest,
      workDir,
    );
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Stores a freshly validated config for later calls. Best effort: a failure only costs speed. */
export function writeConfigCache(loaded: LoadedConfig): void {
  if (loaded.cached) return;
  const { config, syntax, notes, digest } = loaded;
  const path = join(config.work_dir, FILE);
  try {
    // Root never reads the cache, so it arrives here on every call: when the file already holds
    // this validation, write nothing (read-only commands write nothing, DESIGN property 4).
    if (verifyEntry(JSON.parse(readTextBounded(path)), digest, config.work_dir))
      return;
  } catch {
    // missing, unreadable or damaged: write it
  }
  const entry: CacheEntry = {
    digest,
    check: entryCheck(digest, config, syntax, notes),
    config,
    syntax,
    notes,
  };
  try {
    writeFileAtomic(path, `${JSON.stringify(entry)}\n`, 0o600);
  } catch {
    // the next locked command tries again
  }
}
