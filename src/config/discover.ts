// Finding the changer config when udev or autofs start magchanger without -c: the files in
// /etc/magchanger (MAGCHANGER_CONFIG_DIR overrides it). These commands run as root and the
// config names the programs they run, so as root a config must be root's alone (config/read.ts).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { luksMappers } from "./layout.ts";
import { loadConfig } from "./load.ts";
import type { Config } from "./schema.ts";
import { ConfigError, describeErrno } from "../errors.ts";

export const DEFAULT_CONFIG_DIR = "/etc/magchanger";

export function configDir(env: Record<string, string | undefined>): string {
  return env.MAGCHANGER_CONFIG_DIR || DEFAULT_CONFIG_DIR;
}

/**
 * Loads a config that a root helper may trust: readConfigFile applies root's rule (the file and
 * its directories root's alone, checked on the open fd) to every command, these included.
 */
export function loadTrustedConfig(file: string): Config {
  return loadConfig(file);
}

/** The *.toml files of dir, sorted; none when dir does not exist. */
export function listConfigFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(".toml"))
      .sort()
      .map((name) => join(dir, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConfigError(
      `cannot list config directory ${dir}: ${describeErrno(error)}`,
      { cause: error },
    );
  }
}

export interface ConfigScan {
  configs: Config[];
  /** One line per file that could not be used, for the error that follows a failed search. */
  skipped: string[];
}

export function scanConfigs(dir: string): ConfigScan {
  const scan: ConfigScan = { configs: [], skipped: [] };
  for (const file of listConfigFiles(dir)) {
    try {
      scan.configs.push(loadTrustedConfig(file));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      scan.skipped.push(error.message);
    }
  }
  return scan;
}

/**
 * The config of the changer whose luks.mapper (or a bay's mapper) is name (udev passes the name: `unlock /dev/%k
 * bacula`). Without a name, the only config in dir.
 */
export function findConfigForMapper(
  name: string | undefined,
  dir: string,
): Config {
  const { configs, skipped } = scanConfigs(dir);
  const unusable = skipped.length ? ` (unusable: ${skipped.join("; ")})` : "";
  if (name === undefined) {
    const [only] = configs;
    if (configs.length === 1 && only) return only;
    throw new ConfigError(
      configs.length === 0
        ? `no changer config in ${dir}${unusable}; pass -c CONF`
        : `${configs.length} changer configs in ${dir}: name the mapper (unlock DEVICE NAME) or pass -c CONF`,
    );
  }
  // A bay's mapper too: a name two changers use would make each open the other's disks.
  const matches = configs.filter((config) =>
    luksMappers(config).some((m) => m.name === name),
  );
  const [match] = matches;
  if (matches.length === 1 && match) return match;
  if (matches.length === 0) {
    throw new ConfigError(
      `no changer config in ${dir} has luks.mapper = "${name}"${unusable}; set it in the changer's .toml or pass -c CONF`,
    );
  }
  throw new ConfigError(
    `several configs in ${dir} use the mapping name "${name}" (${matches.map((c) => c.source).join(", ")}); give each changer its own luks.mapper and bay mappers, or pass -c CONF`,
  );
}
