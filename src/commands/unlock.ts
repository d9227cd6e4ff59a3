// magchanger unlock: the udev helper. Everything the command line names is checked before a
// config is read or a tool runs. No bun:ffi and no changer lock on this path: systemd-udevd's
// sandbox (MemoryDenyWriteExecute) forbids the JIT that FFI needs.
import type { Config } from "../config/schema.ts";
import { AppError, ConfigError, UsageError } from "../errors.ts";
import { defineCommand } from "./cli.ts";
import { openChangerLogAsRoot, teeToStderr } from "../log.ts";
import { exec } from "../system/exec.ts";
import {
  checkDeviceSyntax,
  checkMapperName,
  resolveBlockDevice,
} from "../unlock/device.ts";
import {
  configDir,
  findConfigForMapper,
  loadTrustedConfig,
} from "../config/discover.ts";
import { queueRefresh } from "../unlock/trigger.ts";
import { tellRefusal } from "../unlock/refused.ts";
import { markWaiting, openIfWaiting } from "../unlock/waiting-disks.ts";
import { luksMappers } from "../config/layout.ts";
import {
  mappingHasFilesystem,
  releaseStaleMapping,
  releaseStaleMappings,
  removeMapping,
  StaleMappingBusyError,
  unlockDevice,
} from "../unlock/unlock.ts";

export interface UnlockOptions {
  config: string | undefined;
  remove: boolean;
  /** Close the mapping only if its disk is gone (the refresh units, outside udev's sandbox). */
  releaseStale?: boolean;
  device: string | undefined;
  name: string | undefined;
}

/** DEVICE and NAME from the command line and udev's environment (DEVNAME, ACTION). */
export function unlockOptions(
  parsed: {
    options: {
      config: string | undefined;
      remove: boolean;
      "release-stale"?: boolean;
    };
    positionals: string[];
  },
  env: Record<string, string | undefined>,
): UnlockOptions {
  const [first, second] = parsed.positionals;
  const releaseStale = parsed.options["release-stale"] === true;
  if (releaseStale) {
    if (parsed.options.remove)
      throw new UsageError(
        "unlock: --remove and --release-stale exclude each other",
      );
    if (second !== undefined || first?.startsWith("/"))
      throw new UsageError(
        "unlock: --release-stale takes no DEVICE (it looks for this changer's mapping whose disk is gone); run magchanger unlock --release-stale -c CONF [NAME]",
      );
    return {
      config: parsed.options.config,
      remove: false,
      releaseStale,
      device: undefined,
      name: first,
    };
  }
  const remove = parsed.options.remove || env.ACTION === "remove";
  let device: string | undefined;
  let name: string | undefined;
  if (second !== undefined) [device, name] = [first, second];
  // One argument: a path is the device; a name is NAME when the device comes from udev's
  // DEVNAME or is not needed (remove); anything else is a device, refused by its spelling.
  else if (
    first !== undefined &&
    !first.startsWith("/") &&
    (remove || env.DEVNAME)
  )
    name = first;
  else device = first;
  return {
    config: parsed.options.config,
    remove,
    device: device ?? (env.DEVNAME || undefined),
    name,
  };
}

export const command = defineCommand({
  name: "unlock",
  summary:
    "The udev helper: open the LUKS disk DEVICE as /dev/mapper/NAME with the key file of the changer config (luks.key_file).",
  usage: [
    "unlock [-c CONF] [DEVICE] [NAME]",
    "unlock --remove [-c CONF] [DEVICE] [NAME]",
    "unlock --release-stale [-c CONF] [NAME]",
  ],
  options: {
    config: {
      type: "string",
      short: "c",
      value: "CONF",
      description: "the changer's .toml file",
    },
    remove: {
      type: "boolean",
      description: "close the mapping instead of opening it",
    },
    "release-stale": {
      type: "boolean",
      description:
        "close the mapping only if the kernel says its disk is gone, lazily unmounting what is still mounted from it (the refresh units run this outside udev's sandbox, which forbids unmounting)",
    },
  },
  positionals: [
    {
      name: "DEVICE",
      optional: true,
      description: "the block device (default: $DEVNAME)",
    },
    {
      name: "NAME",
      optional: true,
      description:
        "luks.mapper (default), or with --remove/--release-stale and no DEVICE the one mapping to close: luks.mapper or a bay's mapper",
    },
  ],
  description: [
    "For a udev rule such as",
    '  ACTION=="add|change", SUBSYSTEM=="block", ENV{ID_FS_TYPE}=="crypto_LUKS", \\\n    RUN+="/usr/local/bin/magchanger unlock /dev/%k bacula"',
    "A changer with several autofs bays (a [[magazine]] path with its own mapper) has one mapping name per bay: the disk is opened under the first of luks.mapper and the bays' mappers that is free, or whose disk is gone (that stale mapping is cleaned up first); when every bay holds an attached disk it is refused. An already open mapping of the same disk is success.",
    "With ACTION=remove in the environment, or --remove, it closes the mapping whose disk is DEVICE instead, and leaves every other mapping alone; without DEVICE, /dev/mapper/NAME.",
    "Then it queues `systemctl restart --no-block magchanger-refresh@STEM.service` (STEM: the config's file name without .toml; the unit `setup` installs runs `magchanger refresh`), so Bacula is told without holding up udev. That is skipped (a log line) without systemd or the unit, and its failure is only a warning.",
    "With --release-stale (run by the refresh units setup installs, outside udev's sandbox, which forbids unmounting) it closes each of the changer's mappings (or /dev/mapper/NAME) only if the kernel says its disk is gone: what is still mounted from it is lazily unmounted, and a mapping still held by an open file is marked for removal once that file is closed. A mapping whose disk is attached is left alone.",
    "Config: -c CONF, or the file in $MAGCHANGER_CONFIG_DIR (default /etc/magchanger) whose luks.mapper (or a bay's mapper) is NAME (without NAME: the only config there). $MAGCHANGER_SYSTEMD_ROOT (tests) is where /run/systemd/system and the unit are looked for, $MAGCHANGER_SYSFS_ROOT (tests) where /sys is.",
  ],
  exitStatus: [
    [0, "opened, already open, closed or nothing to do"],
    [
      1,
      "refused (not LUKS, UUID not allowed, key file permissions, every bay holds another disk)",
    ],
    2,
    3,
    [8, "cryptsetup failed (wrong key, busy device, ...) or timed out"],
  ],
  run: (parsed) => runUnlock(unlockOptions(parsed, process.env)),
});

export async function runUnlock(
  parsed: UnlockOptions,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  // Refuse what the command line names before reading a config or running anything.
  // A removed disk's node is gone: only its spelling can be checked.
  let toOpen: string | undefined;
  if (parsed.remove || parsed.releaseStale) {
    if (parsed.device !== undefined) checkDeviceSyntax(parsed.device);
  } else {
    if (parsed.device === undefined)
      throw new UsageError(
        "unlock: no DEVICE given and DEVNAME is not set; run magchanger unlock /dev/sdX1 [NAME]",
      );
    toOpen = resolveBlockDevice(parsed.device);
  }
  if (parsed.name !== undefined) checkMapperName(parsed.name);

  const config = parsed.config
    ? loadTrustedConfig(parsed.config)
    : findConfigForMapper(parsed.name, configDir(env));
  const name = mapperName(config, parsed.name);
  const fileLog = openChangerLogAsRoot(config, "unlock");
  const log = teeToStderr(fileLog);
  const deps = {
    exec,
    log,
    env,
    ...(env.MAGCHANGER_SYSFS_ROOT
      ? { sysRoot: env.MAGCHANGER_SYSFS_ROOT }
      : {}),
  };
  try {
    if (parsed.releaseStale) {
      // Run by the refresh units, which then tell Bacula themselves: nothing to queue.
      // A disk plugged in while a stale mapping held the names could not be opened by udev.
      const released =
        parsed.name === undefined
          ? await releaseStaleMappings(config, deps)
          : [{ name, outcome: await releaseStaleMapping(config, name, deps) }];
      if (
        released.some((r) => r.outcome === "closed" || r.outcome === "not-open")
      )
        await openIfWaiting(config, deps);
      return;
    }
    if (toOpen === undefined)
      await removeMapping(config, name, parsed.device, deps);
    else {
      const opened = await unlockDevice(config, toOpen, deps);
      if (!(await mappingHasFilesystem(config, opened.name, deps))) {
        log.info(
          `/dev/mapper/${opened.name} holds no filesystem yet (a disk being prepared: mkfs.ext4 -m 0 -L LABEL /dev/mapper/${opened.name}, then magchanger magazine init); Bacula is not told`,
        );
        return;
      }
    }
    // Only queued, never run here: see unlock/trigger.ts.
    await queueRefresh(config, deps);
  } catch (error) {
    if (error instanceof AppError) fileLog.error(error.message);
    if (error instanceof StaleMappingBusyError && toOpen !== undefined) {
      // The refresh units release the name once the job holding the pulled disk lets go, and
      // open this disk then (the timer's retry within 15 min at the latest).
      markWaiting(config, toOpen, deps);
      await queueRefresh(config, deps);
    } else if (error instanceof AppError && toOpen !== undefined)
      await tellRefusal(config, toOpen, error.message, deps, fileLog);
    throw error;
  } finally {
    log.close();
  }
}

/** NAME names the changer (udev passes luks.mapper); with --remove and no DEVICE, the mapping. */
function mapperName(config: Config, given: string | undefined): string {
  const names = luksMappers(config).map((m) => m.name);
  if (given !== undefined && !names.includes(given)) {
    throw new ConfigError(
      names.length === 1
        ? `unlock: NAME "${given}" differs from luks.mapper = "${config.luks.mapper}" in ${config.source}; automap mounts /dev/mapper/${config.luks.mapper}, so use that name (or change luks.mapper)`
        : `unlock: NAME "${given}" is none of the mapping names of ${config.source} (${names.join(", ")}: luks.mapper and each bay's mapper); automap mounts only those, so use one of them`,
    );
  }
  return given ?? config.luks.mapper;
}
