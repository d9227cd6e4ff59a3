// Where setup installs each piece, as the running system sees it (setup --prefix DIR writes the
// same paths below DIR). doctor reads the same places, so the two never disagree.
import { join, relative, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { configStem } from "../system/systemd.ts";

// The bays live in bays.ts, which imports nothing of config/: the schema checks them too.
export { type AutofsBay, autofsBays, keyBay, luksMappers } from "./bays.ts";

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
