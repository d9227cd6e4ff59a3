// Where setup installs each piece, as the running system sees it (setup --prefix DIR writes the
// same paths below DIR). doctor reads the same places, so the two never disagree.
import { basename, dirname, join, relative, resolve } from "node:path";
import type { Config } from "./schema.ts";
import { UsageError } from "../errors.ts";
import { configStem } from "../system/systemd.ts";

export interface InstallPaths {
  /** 90-: after 60-persistent-storage.rules, which sets the ID_FS_* properties the rule matches. */
  udevRule: string;
  /** Read by Debian's /etc/auto.master through `+dir:/etc/auto.master.d` (*.autofs only). */
  autofsMaster: string;
  /**
   * The executable map: a link to the binary. automap reads CONFIG_DIR/CHANGER.toml when run as
   * auto.CHANGER, so the link is named after the config file.
   */
  autofsMap: string;
  sdStanza: string;
  sdMain: string;
  dirStanza: string;
  dirMain: string;
}

export function installPaths(name: string, configPath: string): InstallPaths {
  return {
    udevRule: `/etc/udev/rules.d/90-magchanger-${name}.rules`,
    autofsMaster: `/etc/auto.master.d/magchanger-${name}.autofs`,
    autofsMap: `/etc/auto.${configStem(configPath)}`,
    sdStanza: `/etc/bacula/magchanger-${name}-sd.conf`,
    sdMain: "/etc/bacula/bacula-sd.conf",
    dirStanza: `/etc/bacula/magchanger-${name}-dir.conf`,
    dirMain: "/etc/bacula/bacula-dir.conf",
  };
}

/** What the bays' layout is read from: a validated Config, or the schema's output being checked. */
export interface BayLayoutInput {
  magazine: readonly {
    path?: string | undefined;
    mapper?: string | undefined;
  }[];
  automap: { key: string; luks: boolean };
  luks: { mapper: string };
}

/** A bay autofs mounts: a path directly below the autofs mount dir, its last component the key. */
export interface AutofsBay {
  /** Its [[magazine]] number (1-based). */
  bay: number;
  mountDir: string;
  key: string;
  path: string;
  /** The /dev/mapper name its disk is opened under: luks.mapper for automap.key's bay. */
  mapper: string;
}

/** automap.key's bay: the first [[magazine]] path whose last component is automap.key. */
export function keyBay(config: BayLayoutInput): AutofsBay | undefined {
  for (const [i, spec] of config.magazine.entries()) {
    if (spec.path === undefined) continue;
    const path = resolve(spec.path);
    if (path !== "/" && basename(path) === config.automap.key)
      return {
        bay: i + 1,
        mountDir: dirname(path),
        key: config.automap.key,
        path,
        mapper: config.luks.mapper,
      };
  }
  return undefined;
}

/**
 * The bays autofs mounts, automap.key's first: the autofs master entry's one mount dir is that
 * bay's directory, and with LUKS every other path bay there that names its own mapper is a bay
 * too, answering its last component (the program map answers every key of that dir).
 */
export function autofsBays(config: BayLayoutInput): AutofsBay[] {
  const first = keyBay(config);
  if (!first) return [];
  const bays = [first];
  if (!config.automap.luks) return bays;
  for (const [i, spec] of config.magazine.entries()) {
    if (spec.path === undefined || spec.mapper === undefined) continue;
    const path = resolve(spec.path);
    if (i + 1 === first.bay || dirname(path) !== first.mountDir) continue;
    bays.push({
      bay: i + 1,
      mountDir: first.mountDir,
      key: basename(path),
      path,
      mapper: spec.mapper,
    });
  }
  return bays;
}

/** The bay autofs manages first (automap.key's); undefined when autofs mounts no bay. */
export function autofsBay(config: BayLayoutInput): AutofsBay | undefined {
  return keyBay(config);
}

/**
 * The /dev/mapper names unlock may open this changer's disks under, in the order it tries them:
 * luks.mapper, then each further autofs bay's mapper. Without LUKS bays: luks.mapper alone.
 */
export function luksMappers(
  config: BayLayoutInput,
): { name: string; bay?: AutofsBay }[] {
  const bays = config.automap.luks ? autofsBays(config) : [];
  if (bays.length === 0) return [{ name: config.luks.mapper }];
  return bays.map((bay) => ({ name: bay.mapper, bay }));
}

/** path below prefix ("/" = the live system). */
export function underPrefix(prefix: string, path: string): string {
  return prefix === "/" ? path : join(prefix, path);
}

/** The path the live system will see for a file given below prefix (the prefix stripped). */
export function livePath(prefix: string, path: string): string {
  const absolute = resolve(path);
  if (prefix === "/") return absolute;
  const rel = relative(prefix, absolute);
  if (rel === "" || rel.startsWith("..") || rel.startsWith("/"))
    return absolute;
  return `/${rel}`;
}

/**
 * Paths that end up in a Changer Command, a udev RUN+= string or an autofs map line: Bacula splits
 * its command on spaces without a shell, udev expands % and $, autofs splits on blanks.
 */
const SAFE_PATH = /^\/[A-Za-z0-9_.+/@-]*$/;

export function checkSafePath(path: string, what: string, fix: string): void {
  if (!SAFE_PATH.test(path)) {
    throw new UsageError(
      `${what} ${JSON.stringify(path)} cannot be written into Bacula/udev/autofs configuration (only letters, digits and _.+/@- are safe there); ${fix}`,
    );
  }
}
