// magchanger unlock: the udev helper. Everything the command line names is checked before a
// config is read or a tool runs. No bun:ffi and no changer lock on this path: systemd-udevd's
// sandbox (MemoryDenyWriteExecute) forbids the JIT that FFI needs.
import type { Config } from "../config/schema.ts";
import { AppError, ConfigError, UsageError } from "../errors.ts";
import { teeToStderr } from "../log.ts";
import { exec } from "../system/exec.ts";
import { parseStrict } from "../unlock/args.ts";
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
import { openChangerLogAsRoot } from "../unlock/log.ts";
import { queueRefresh } from "../unlock/trigger.ts";
import { removeMapping, unlockDevice } from "../unlock/unlock.ts";

export const HELP = `Usage: magchanger unlock [-c CONF] [DEVICE] [NAME]
       magchanger unlock --remove [-c CONF] [DEVICE] [NAME]

Opens the LUKS disk DEVICE as /dev/mapper/NAME with the key file of the changer config
(luks.key_file), for a udev rule such as
  ACTION=="add|change", SUBSYSTEM=="block", ENV{ID_FS_TYPE}=="crypto_LUKS", RUN+="/usr/local/bin/magchanger unlock /dev/%k bacula"
DEVICE defaults to $DEVNAME; with ACTION=remove in the environment, or --remove, it closes
/dev/mapper/NAME instead (unless NAME lives on another disk that is still attached).
An already open mapping of the same disk is success; a stale one of a pulled disk is cleaned up.
Then it queues \`systemctl start --no-block magchanger-refresh@STEM.service\` (STEM: the config's
file name without .toml; the unit \`setup\` installs runs \`magchanger refresh\`), so Bacula is told
without holding up udev. That is skipped (a log line) without systemd or the unit, and its
failure is only a warning.

Config: -c CONF, or the file in $MAGCHANGER_CONFIG_DIR (default /etc/magchanger) whose
luks.mapper is NAME (without NAME: the only config there). NAME defaults to luks.mapper.
$MAGCHANGER_SYSTEMD_ROOT (tests) is where /run/systemd/system and the unit are looked for.

Options:
  -c, --config CONF   the changer's .toml file
      --remove        close the mapping instead of opening it
  -h, --help          this text

Exit status: 0 opened, already open, closed or nothing to do; 1 refused (not LUKS, UUID not
allowed, key file permissions, mapping held by another disk); 2 usage; 3 config; 8 cryptsetup
failed (wrong key, busy device, ...) or timed out.
`;

interface UnlockArgs {
  config: string | undefined;
  remove: boolean;
  device: string | undefined;
  name: string | undefined;
}

export function parseUnlockArgs(
  args: string[],
  env: Record<string, string | undefined>,
): UnlockArgs | "help" {
  const parsed = parseStrict("unlock", args, {
    config: { type: "string", short: "c" },
    remove: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length > 2)
    throw new UsageError(
      `unlock: too many arguments (${positionals.join(" ")}); expected [DEVICE] [NAME]`,
    );
  const [first, second] = positionals;
  const remove = values.remove === true || env.ACTION === "remove";
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
    config: values.config,
    remove,
    device: device ?? (env.DEVNAME || undefined),
    name,
  };
}

export async function main(args: string[]): Promise<void> {
  const env = process.env;
  const parsed = parseUnlockArgs(args, env);
  if (parsed === "help") {
    process.stdout.write(HELP);
    return;
  }
  // Refuse what the command line names before reading a config or running anything.
  // A removed disk's node is gone: only its spelling can be checked.
  let toOpen: string | undefined;
  if (parsed.remove) {
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
  const deps = { exec, log, env };
  try {
    if (toOpen === undefined)
      await removeMapping(config, name, parsed.device, deps);
    else await unlockDevice(config, toOpen, name, deps);
    // Only queued, never run here: see unlock/trigger.ts.
    await queueRefresh(config, deps);
  } catch (error) {
    if (error instanceof AppError) fileLog.error(error.message);
    throw error;
  } finally {
    log.close();
  }
}

function mapperName(config: Config, given: string | undefined): string {
  if (given !== undefined && given !== config.luks.mapper) {
    throw new ConfigError(
      `unlock: NAME "${given}" differs from luks.mapper = "${config.luks.mapper}" in ${config.source}; automap mounts /dev/mapper/${config.luks.mapper}, so use that name (or change luks.mapper)`,
    );
  }
  return given ?? config.luks.mapper;
}
