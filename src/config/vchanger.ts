// vchanger.conf (0.8 or 1.0 syntax) -> the raw object configSchema validates, so one Config
// comes out whatever the file. Errors name the file, the line, the fix and the syntax assumed;
// keys that were mapped, defaulted or kept in [legacy] come back as notes for the caller to log.
import { ConfigError } from "../errors.ts";
import { getConfigSchema } from "./schema.ts";
import { mapEntries } from "./vchanger-map.ts";
import type { Target } from "./vchanger-entry.ts";
import type { Origin } from "./vchanger-reader.ts";
import {
  keywordLines,
  normalizeKey,
  readEntries,
  type VchangerEntry,
  VchangerSyntaxError,
  type VchangerVersion,
} from "./vchanger-syntax.ts";

export type { Origin } from "./vchanger-reader.ts";
export type { VchangerVersion } from "./vchanger-syntax.ts";

/** Every keyword by normalized spelling, as each version spells it (absent: not a key there). */
export const KEYS: Record<
  string,
  { target: Target; v10?: string; v08?: string }
> = {
  storageresource: { target: "name", v10: "Storage Resource" },
  changername: { target: "name", v08: "changer_name" },
  workdir: { target: "work_dir", v10: "Work Dir", v08: "work_dir" },
  statedir: { target: "work_dir", v08: "state_dir" },
  logfile: { target: "log_file", v10: "Logfile", v08: "logfile" },
  loglevel: { target: "log_level", v10: "Log Level", v08: "log_level" },
  user: { target: "user", v10: "User", v08: "user" },
  group: { target: "group", v10: "Group", v08: "group" },
  bconsole: { target: "bacula.bconsole", v10: "bconsole", v08: "bconsole" },
  bconsoleconfig: {
    target: "bacula.config",
    v10: "bconsole config",
    v08: "bconsole_config",
  },
  defaultpool: {
    target: "bacula.pool",
    v10: "Default Pool",
    v08: "default_pool",
  },
  magazine: { target: "magazine", v10: "Magazine", v08: "magazine" },
  virtualdrives: { target: "drives", v08: "virtual_drives" },
  slotspermagazine: {
    target: "legacy.slots_per_magazine",
    v08: "slots_per_magazine",
  },
  magazinebays: { target: "legacy.magazine_bays", v08: "magazine_bays" },
  automountdir: { target: "legacy.automount_dir", v08: "automount_dir" },
};

export function keysOf(version: VchangerVersion): string[] {
  return Object.values(KEYS).flatMap(
    (k) => (version === "1.0" ? k.v10 : k.v08) ?? [],
  );
}

export interface VchangerImport {
  version: VchangerVersion;
  /** The object to pass to validateConfig. */
  raw: Record<string, unknown>;
  /** Config key path ("name", "bacula.pool", "magazine.2") -> its vchanger line. */
  origins: Map<string, Origin>;
  /** Config key path -> why a value that is not in the file was set (a vchanger default). */
  derived: Map<string, string>;
  /** Mapped, defaulted or kept keys, for the caller to log or print. */
  notes: string[];
}

/**
 * 0.8 or 1.0. A keyword only one version has decides (both: an error naming the two lines);
 * otherwise the spelling (changer_name style for 0.8, "Work Dir" style for 1.0); otherwise 1.0.
 */
export function detectVersion(text: string): VchangerVersion {
  const only: Partial<Record<VchangerVersion, { line: number; key: string }>> =
    {};
  const hint: Partial<Record<VchangerVersion, boolean>> = {};
  for (const found of keywordLines(text)) {
    const spec = KEYS[normalizeKey(found.key)];
    if (!spec) continue;
    if (!spec.v10) only["0.8"] ??= found;
    if (!spec.v08) only["1.0"] ??= found;
    if (found.key.includes("_")) hint["0.8"] = true;
    if (/\S\s+\S/.test(found.key)) hint["1.0"] = true;
  }
  const old = only["0.8"];
  const current = only["1.0"];
  if (old && current) {
    throw new VchangerSyntaxError(
      current.line,
      `\`${current.key}\` is vchanger 1.0 syntax but line ${old.line} (\`${old.key}\`) is 0.8 syntax; use one of them`,
    );
  }
  if (old) return "0.8";
  if (current) return "1.0";
  return hint["0.8"] && !hint["1.0"] ? "0.8" : "1.0";
}

export function parseVchangerConfig(
  text: string,
  file: string,
  options: { validate?: boolean } = {},
): VchangerImport {
  let version: VchangerVersion | undefined;
  const fail = (line: number | undefined, message: string): never => {
    const where =
      line === undefined ? `config ${file}` : `config ${file} line ${line}`;
    throw new ConfigError(
      `${where}: ${message}${version ? ` (read as vchanger ${version} syntax)` : ""}`,
    );
  };
  let entries: VchangerEntry[];
  try {
    version = detectVersion(text);
    entries = readEntries(text, version);
  } catch (error) {
    if (error instanceof VchangerSyntaxError)
      return fail(error.line, error.message);
    throw error;
  }

  // As in vchanger: the last line of a keyword wins, `key =` without a value resets it to its
  // default, and each Magazine line adds a magazine (a valueless one clears the list).
  const notes: string[] = [];
  const set = new Map<Target, VchangerEntry>();
  let magazines: VchangerEntry[] = [];
  for (const e of entries) {
    const spec = KEYS[e.norm];
    if (!spec) {
      return fail(
        e.line,
        `unknown key \`${e.key}\`; vchanger ${version} keys are ${keysOf(version).join(", ")}`,
      );
    }
    if (e.value === undefined) {
      notes.push(
        `line ${e.line}: \`${e.key} =\` has no value: its default applies, as in vchanger`,
      );
      if (spec.target === "magazine") magazines = [];
      else set.delete(spec.target);
    } else if (spec.target === "magazine") magazines.push(e);
    else {
      const earlier = set.get(spec.target);
      if (earlier)
        notes.push(
          `line ${e.line}: \`${e.key}\` overrides line ${earlier.line}, as in vchanger`,
        );
      set.set(spec.target, e);
    }
  }

  const mapped = mapEntries(version, set, magazines, notes, fail);
  // Without validation the raw object is only good for locating a cached, validated config.
  if (options.validate !== false) checkSchema(mapped.raw, mapped.origins, fail);
  const lineOf = (note: string) =>
    Number(/^line (\d+):/.exec(note)?.[1] ?? Infinity);
  notes.sort((a, b) => lineOf(a) - lineOf(b));
  return { version, notes, ...mapped };
}

/** Schema problems are reported at the vchanger line the value came from. */
function checkSchema(
  raw: unknown,
  origins: Map<string, Origin>,
  fail: (line: number | undefined, message: string) => never,
): void {
  const result = getConfigSchema().safeParse(raw);
  const issue = result.success ? undefined : result.error.issues[0];
  if (!issue) return;
  const path = issue.path.map(String).join(".");
  const origin =
    origins.get(path) ??
    origins.get(issue.path.slice(0, 2).map(String).join("."));
  if (!origin) fail(undefined, `${path || "config"}: ${issue.message}`);
  else
    fail(
      origin.line,
      `\`${origin.key} = ${origin.value.slice(0, 60)}\`: ${issue.message}`,
    );
}
