// doctor: every check, in the order the chain is built (config, identity, state, disks, plumbing,
// Bacula). Reads only: it writes nothing and changes no owner (a magazine on an autofs bay is
// mounted by looking at it, as the changer itself would).
import { loadConfig } from "../config/load.ts";
import { UntrustedConfigError } from "../config/read.ts";
import { ConfigError } from "../errors.ts";
import { livePath } from "../setup/paths.ts";
import { lookupGroup, lookupUser } from "../system/identity.ts";
import { type HostKernel, realHostKernel } from "../system/kernel.ts";
import { realSystem, type System } from "../system/system.ts";
import { runAsGroups, type Who } from "./access.ts";
import { type Check, fail } from "./check.ts";
import type { DoctorContext } from "./context.ts";
import { withHostKernel } from "./kernel.ts";
import {
  checkBconsole,
  checkBinary,
  checkConfigFile,
  checkIdentity,
  checkKey,
  checkLog,
  checkWorkDir,
} from "./host.ts";
import { checkAutofs, checkBacula, checkUdev } from "./install.ts";
import { checkMagazines } from "./magazines.ts";
import { checkRefreshUnits } from "./systemd.ts";

export interface DoctorOptions {
  /** The config file, absolute. */
  configFile: string;
  prefix: string;
  binary: string | undefined;
  configDir: string;
  /** The OS seam; default: the real one for the config's tools. */
  sys?: System;
  /** What the kernel and host offer (autofs, device-mapper, udev); default: this host's. */
  host?: HostKernel;
}

export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(options.configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // As root, a config others may change is refused before any tool it names could run.
    if (error instanceof UntrustedConfigError)
      return [fail("config owner", error.message, error.fix)];
    return [
      fail(
        "config",
        error.message.replace(/^config /, ""),
        `fix ${options.configFile} (every key is explained in the example conf/magchanger.toml)`,
      ),
    ];
  }
  const ctx: DoctorContext = {
    config,
    configFile: options.configFile,
    configPath: livePath(options.prefix, options.configFile),
    prefix: options.prefix,
    binary: options.binary,
    who: runAs(config.user, config.group),
    sys: options.sys ?? realSystem(config.tools),
    configDir: options.configDir,
  };
  const checks = [
    ...checkConfigFile(ctx),
    ...checkIdentity(ctx),
    ...checkWorkDir(ctx),
    ...checkLog(ctx),
    ...(await checkMagazines(ctx)),
    ...checkKey(ctx),
    ...checkBinary(ctx),
    ...checkUdev(ctx),
    ...checkRefreshUnits(ctx),
    ...checkAutofs(ctx),
    ...checkBacula(ctx),
    ...checkBconsole(ctx),
  ];
  return withHostKernel(checks, config, options.host ?? realHostKernel());
}

function runAs(userName: string, groupName: string): Who | undefined {
  const user = lookupUser(userName);
  const group = lookupGroup(groupName);
  if (!user || !group) return undefined;
  if (user.uid === 0) return { name: userName, uid: 0, gids: [group.gid] };
  return {
    name: userName,
    uid: user.uid,
    gids: runAsGroups(userName, group.gid, user.gid),
  };
}
