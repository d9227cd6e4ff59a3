// The systemd units through which Bacula is told about disk changes: names and places shared by
// setup (writes them), unlock (queues the service) and doctor (checks them). One set of templates
// serves every changer; the instance is the config's file name stem, so
// magchanger-refresh@usbchanger1.service reads /etc/magchanger/usbchanger1.toml.
import { basename, join } from "node:path";
import { lstatSync, statSync } from "node:fs";

export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";
/** Where systemd finds units: the admin's directory first, then those of packages. */
export const SYSTEMD_UNIT_DIRS = [
  SYSTEMD_UNIT_DIR,
  "/usr/lib/systemd/system",
  "/lib/systemd/system",
];
export const REFRESH_SERVICE_TEMPLATE = "magchanger-refresh@.service";
export const REFRESH_TIMER_TEMPLATE = "magchanger-refresh@.timer";
/** What the timer starts: `refresh --if-pending`, which scans the bays only to repeat an update. */
export const RETRY_SERVICE_TEMPLATE = "magchanger-retry@.service";

/** The config's file name without .toml: /etc/magchanger/usbchanger1.toml -> usbchanger1. */
export function configStem(configPath: string): string {
  return basename(configPath).replace(/\.toml$/, "");
}

// What systemd accepts in an instance name as it is: %i expands to exactly this text, so the
// unit reads the config of that name. Anything else would need systemd-escape and %I.
const INSTANCE = /^[A-Za-z0-9:_.@-]{1,200}$/;

export function isUnitInstance(name: string): boolean {
  return INSTANCE.test(name);
}

export function refreshUnit(
  instance: string,
  type: "service" | "timer",
): string {
  return `magchanger-refresh@${instance}.${type}`;
}

export function retryUnit(instance: string): string {
  return `magchanger-retry@${instance}.service`;
}

/** sd_booted(3): systemd is PID 1 exactly when /run/systemd/system is a directory. */
export function systemdBooted(root = "/"): boolean {
  try {
    return lstatSync(join(root, "run/systemd/system")).isDirectory();
  } catch {
    return false;
  }
}

/** Where unit (a file name) is installed below root, or undefined. */
export function installedUnit(unit: string, root = "/"): string | undefined {
  for (const dir of SYSTEMD_UNIT_DIRS) {
    const path = join(root, dir, unit);
    try {
      if (statSync(path).isFile()) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
