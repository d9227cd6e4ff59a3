// Which changer config a map lookup answers from. autofs passes only the key, so the map's own
// name carries the changer: the link /etc/auto.usbchanger1 reads CONFIG_DIR/usbchanger1.toml.
// Under any other name (magchanger-automap, `magchanger automap KEY`) the config dir is searched
// for the changer that answers the key; autofs runs the map from the mount point, so a tie is
// broken by the [[magazine]] path that the lookup would mount (cwd/KEY).
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import {
  configDir,
  loadTrustedConfig,
  scanConfigs,
} from "../config/discover.ts";
import { answersKey, NoMapEntryError } from "./resolve.ts";

export interface AutomapLookup {
  /** -c CONF, when given. */
  explicit: string | undefined;
  /** The name the binary was started under. */
  argv0: string;
  key: string;
  cwd: string;
  env: Record<string, string | undefined>;
}

/** The changer name in a map link's name (auto.NAME), if it has one. */
export function changerOfMapName(argv0: string): string | undefined {
  const name = basename(argv0);
  return name.startsWith("auto.") && name.length > 5
    ? name.slice(5)
    : undefined;
}

export function automapConfig(lookup: AutomapLookup): Config {
  if (lookup.explicit) return loadTrustedConfig(lookup.explicit);
  const dir = configDir(lookup.env);
  const changer = changerOfMapName(lookup.argv0);
  if (changer !== undefined) {
    const file = join(dir, `${changer}.toml`);
    if (!existsSync(file)) {
      throw new ConfigError(
        `automap: map ${basename(lookup.argv0)} answers from ${file}, which does not exist; name the map link auto.<changer> after the changer's config file`,
      );
    }
    return loadTrustedConfig(file);
  }
  const { configs, skipped } = scanConfigs(dir);
  const matches = configs.filter((config) => answersKey(config, lookup.key));
  const [only] = matches;
  if (matches.length === 1 && only) return only;
  if (matches.length === 0) {
    const unusable = skipped.length ? ` (unusable: ${skipped.join("; ")})` : "";
    throw new NoMapEntryError(
      `automap: unknown key ${JSON.stringify(lookup.key.slice(0, 80))}: no changer config in ${dir} answers it${unusable}`,
    );
  }
  const target = join(lookup.cwd, lookup.key);
  const here = matches.filter((config) =>
    config.magazine.some((m) => m.path === target),
  );
  const [chosen] = here;
  if (here.length === 1 && chosen) return chosen;
  throw new ConfigError(
    `automap: key "${lookup.key}" is answered by ${matches.map((c) => c.source).join(", ")}; name the map link auto.<changer> or pass -c CONF`,
  );
}
