// Reads one changer configuration file into a validated Config. Errors name the file and the
// line (syntax) or the key path (schema) and what is allowed, on one line.
// A file is TOML when it ends in .toml or has a `name` key; anything else is read as a
// vchanger.conf (0.8 or 1.0 syntax), so a vchanger Changer Device keeps working unchanged.
import { parse as parseToml, TomlError } from "smol-toml";
import { ConfigError } from "../errors.ts";
import {
  configDigest,
  type LoadedConfig,
  rawWorkDir,
  readConfigCache,
} from "./cache.ts";
import { readConfigSource } from "./read.ts";
import { type Config, configIssueMessage, getConfigSchema } from "./schema.ts";
import { parseVchangerConfig } from "./vchanger.ts";

export type { ConfigSyntax, LoadedConfig } from "./cache.ts";

export interface ReadOptions {
  /** Accept a cached validation of this exact text (never while running as root). */
  useCache?: boolean;
  /**
   * Called with the parsed but unvalidated config just before the cache is looked up: root
   * becomes the run-as user here (commands/context.ts), so the cache, which that user writes,
   * is read with that user's rights only.
   */
  beforeCache?: (raw: unknown) => void;
  /** A cached validation is used only when this accepts it (root: the user it dropped to). */
  acceptCached?: (config: Config) => boolean;
}

export function loadConfig(file: string): Config {
  return readConfigFile(file).config;
}

/**
 * Every command reads its config here. As root the file must be root's alone (config/read.ts),
 * and the validated-config cache, which the run-as user writes, is used only when beforeCache
 * has dropped root first (readConfigCache refuses to run as root).
 */
export function readConfigFile(
  file: string,
  options: ReadOptions = {},
): LoadedConfig {
  const root = process.geteuid?.() === 0;
  const text = readConfigSource(file, root);
  return readConfigText(
    text,
    file,
    root && !options.beforeCache ? {} : options,
  );
}

export function parseConfigText(text: string, file: string): Config {
  return readConfigText(text, file).config;
}

export function readConfigText(
  text: string,
  file: string,
  options: ReadOptions = {},
): LoadedConfig {
  const digest = configDigest(text, file);
  let raw: unknown;
  let tomlError: TomlError | undefined;
  try {
    raw = parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    tomlError = error;
  }
  // `name =` and `[[magazine]]` are no vchanger keys: such a file is TOML, whatever its name.
  const tomlSuffix = file.endsWith(".toml");
  const tomlKeys = /^\s*(\[\[magazine\]\]|name\s*=)/m.test(text);
  if (
    !tomlSuffix &&
    !tomlKeys &&
    !(raw && typeof raw === "object" && "name" in raw)
  )
    return vchangerConfig(text, file, digest, options);
  const why = tomlSuffix
    ? ""
    : ` (read as TOML: it has ${tomlKeys ? "`name =` or `[[magazine]]`" : "a `name` key"})`;
  if (tomlError)
    throw new ConfigError(
      `config ${file} line ${tomlError.line}: ${tomlMessage(tomlError, text)}${why}`,
      { cause: tomlError },
    );
  const cached = fromCache(raw, digest, options);
  if (cached) return cached;
  try {
    const config = validateConfig(raw, file);
    return { config, syntax: "toml", notes: [], digest, cached: false };
  } catch (error) {
    if (!why || !(error instanceof ConfigError)) throw error;
    throw new ConfigError(`${error.message}${why}`, { cause: error });
  }
}

/** A vchanger.conf (0.8 or 1.0 syntax), through the same cache as TOML. */
function vchangerConfig(
  text: string,
  file: string,
  digest: string,
  options: ReadOptions,
): LoadedConfig {
  if (options.useCache) {
    const { raw } = parseVchangerConfig(text, file, { validate: false });
    const cached = fromCache(raw, digest, options);
    if (cached) return cached;
  }
  const imported = parseVchangerConfig(text, file);
  const syntax = imported.version === "0.8" ? "vchanger-0.8" : "vchanger-1.0";
  return {
    config: validateConfig(imported.raw, file),
    syntax,
    notes: imported.notes,
    digest,
    cached: false,
  };
}

/** The validated config cached for this text, when the caller uses and accepts it. */
function fromCache(
  raw: unknown,
  digest: string,
  options: ReadOptions,
): LoadedConfig | undefined {
  if (!options.useCache) return undefined;
  options.beforeCache?.(raw);
  const cached = readConfigCache(rawWorkDir(raw), digest);
  return cached && (options.acceptCached?.(cached.config) ?? true)
    ? cached
    : undefined;
}

const UNTERMINATED =
  "unterminated string: a quote opened on this line is not closed; add the closing quote";

function tomlMessage(error: TomlError, text: string): string {
  const message =
    error.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ??
    "syntax error";
  if (message === "unfinished string") return UNTERMINATED;
  // smol-toml reports a string cut by the end of its line as the newline being a control
  // character: it points past the line's last character.
  const line = text.split("\n")[error.line - 1] ?? "";
  const at = line.replace(/\r$/, "")[error.column - 1];
  if (message.startsWith("control characters") && at === undefined)
    return UNTERMINATED;
  return message;
}

export function validateConfig(raw: unknown, file: string): Config {
  const result = getConfigSchema().safeParse(raw, {
    error: configIssueMessage,
  });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path
        .map((p) =>
          typeof p === "number" ? `[${p + (p >= 0 ? 1 : 0)}]` : `.${String(p)}`,
        )
        .join("")
        .replace(/^\./, "");
      if (issue.code === "unrecognized_keys") {
        const allowed = allowedKeysAt(issue.path);
        return `${path || "top level"}: unknown key ${issue.keys.join(", ")}${allowed ? `; allowed: ${allowed.join(", ")}` : ""}`;
      }
      return `${path || "top level"}: ${issue.message}`;
    });
    throw new ConfigError(`config ${file}: ${problems.join("; ")}`);
  }
  const value = result.data;
  return {
    ...value,
    work_dir: value.work_dir ?? `/var/lib/magchanger/${value.name}`,
    log_file: value.log_file ?? `/var/log/magchanger/${value.name}.log`,
    source: file,
  };
}

/** The keys a table allows, read from the schema itself so the message never drifts from it. */
function allowedKeysAt(path: PropertyKey[]): string[] | undefined {
  // biome-ignore lint: walking zod's internal definition tree
  let node: any = getConfigSchema();
  for (const step of path) {
    while (node?._zod?.def?.innerType) node = node._zod.def.innerType;
    if (typeof step === "number") node = node?._zod?.def?.element;
    else node = node?._zod?.def?.shape?.[step];
  }
  while (node?._zod?.def?.innerType) node = node._zod.def.innerType;
  const shape = node?._zod?.def?.shape;
  return shape ? Object.keys(shape) : undefined;
}
