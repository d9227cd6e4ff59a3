// doctor: every check, in the order the chain is built (config, identity, state, disks, plumbing,
// Bacula). Reads only: it writes nothing and changes no owner (a magazine on an autofs bay is
// mounted by looking at it, as the changer itself would).
// Started as root, it first does what needs root (the key, the installed files, the disks:
// blkid, every disk file read bounded), then becomes the run-as user (becomeRunAsUser, as
// refresh does) for what that user owns or controls: the work dir, the log, refresh.json, the
// storage daemon's config with its @includes, bconsole. Whatever that user plants there (a FIFO,
// a link to /dev/zero or to a root-only file) is then read with its rights, never root's.
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { UntrustedConfigError } from "../config/read.ts";
import { ConfigError, errnoCode } from "../errors.ts";
import { existsSync, statSync } from "node:fs";
import { installPaths, livePath, underPrefix } from "../config/layout.ts";
import { checkSdDevices, checkSdPassword } from "./bacula-conf.ts";
import { checkDirector, checkUnlabeled } from "./bacula-live.ts";
import { readDamaged } from "../bacula/damage.ts";
import { describeVolumeDamage } from "../events/types.ts";
import { lookupGroup, lookupUser } from "../system/identity.ts";
import { type HostKernel, realHostKernel } from "../system/kernel.ts";
import { realSystem, type System } from "../system/system.ts";
import { runAsGroups, type Who } from "./access.ts";
import { type Check, fail, warn } from "./check.ts";
import type { DoctorContext } from "./context.ts";
import { withHostKernel } from "./kernel.ts";
import {
  checkBconsole,
  checkBinary,
  checkConfigFile,
  checkIdentity,
  checkKey,
  checkLog,
} from "./host.ts";
import { checkAutofs } from "./autofs.ts";
import { checkWorkDir } from "./workdir.ts";
import { checkBacula, checkUdev } from "./install.ts";
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
  /** The storage daemon's and the Director's configs; default: Debian's, below the prefix. */
  sdConfig?: string;
  dirConfig?: string;
  /**
   * Becomes the run-as user before the checks of what it owns (commands/doctor.ts drops
   * privileges as root); throws when that is impossible. Default: stay as is (tests).
   */
  becomeRunAsUser?: (config: Config) => void;
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
        configFix(options.configFile, error),
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
  const host = options.host ?? realHostKernel();
  const asRoot = {
    config: checkConfigFile(ctx),
    identity: checkIdentity(ctx),
    magazines: await checkMagazines(ctx),
    key: checkKey(ctx),
    binary: checkBinary(ctx),
    udev: checkUdev(ctx),
    units: checkRefreshUnits(ctx),
    autofs: checkAutofs(ctx),
    bacula: checkBacula(ctx),
    bconsole: checkBconsole(ctx),
  };
  const asUser = await asRunAsUser(ctx, options);
  const checks = [
    ...asRoot.config,
    ...asRoot.identity,
    ...asUser.workDir,
    ...asUser.damaged,
    ...asUser.log,
    ...asRoot.magazines,
    ...asRoot.key,
    ...asRoot.binary,
    ...asRoot.udev,
    ...asRoot.units,
    ...asRoot.autofs,
    ...asRoot.bacula,
    ...asUser.confs,
    ...asRoot.bconsole,
    ...asUser.live,
  ];
  return withHostKernel(checks, config, host);
}

/** The checks of what the run-as user owns, made as that user (see above). */
async function asRunAsUser(ctx: DoctorContext, options: DoctorOptions) {
  try {
    options.becomeRunAsUser?.(ctx.config);
  } catch (error) {
    // The identity check names the missing user or group; nothing of theirs is read as root.
    const why = `not checked: doctor cannot become the run-as user ${ctx.config.user}:${ctx.config.group} (${(error as Error).message ?? error}), and reads nothing that user owns as root`;
    const fix = "fix the run-as user first";
    return {
      workDir: [warn("work dir", why, fix)],
      damaged: [],
      log: [],
      confs: [warn("sd devices", why, fix)],
      live: [],
    };
  }
  return {
    workDir: checkWorkDir(ctx),
    damaged: checkDamaged(ctx),
    log: checkLog(ctx),
    confs: baculaConfs(ctx, options),
    live: await liveBacula(ctx),
  };
}

/** Volumes refresh found untrustworthy (bacula/damage.ts), read from the run-as user's work dir. */
function checkDamaged(ctx: DoctorContext): Check[] {
  return [...readDamaged(ctx.config.work_dir).values()].map((d) =>
    warn(
      "damaged volume",
      describeVolumeDamage(d),
      `run the job(s) again; to reuse ${d.volume}, erasing it: delete volume=${d.volume} yes in bconsole, truncate -s 0 its file, magchanger refresh`,
    ),
  );
}

function baculaConfs(ctx: DoctorContext, options: DoctorOptions): Check[] {
  const paths = installPaths(ctx.config.name, ctx.configPath);
  // Without Debian's main file (a staged --prefix tree), the stanza setup wrote.
  const either = (main: string, stanza: string) =>
    existsSync(underPrefix(ctx.prefix, main))
      ? underPrefix(ctx.prefix, main)
      : underPrefix(ctx.prefix, stanza);
  const sd = options.sdConfig ?? either(paths.sdMain, paths.sdStanza);
  const dir = options.dirConfig ?? either(paths.dirMain, paths.dirStanza);
  return [...checkSdDevices(ctx, sd), ...checkSdPassword(ctx, sd, dir)];
}

/** The Director's answers, unless bconsole is off or missing (checkBconsole says so). */
async function liveBacula(ctx: DoctorContext): Promise<Check[]> {
  if (ctx.config.legacy?.bconsole_disabled) return [];
  try {
    if ((statSync(ctx.config.bacula.bconsole).mode & 0o111) === 0) return [];
  } catch {
    return [];
  }
  return [...(await checkDirector(ctx)), ...checkUnlabeled(ctx)];
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

/** What to do about a config that cannot be used: create a missing one, else edit it. */
function configFix(file: string, error: ConfigError): string {
  if (errnoCode(error.cause) === "ENOENT")
    return `create ${file} from the example conf/magchanger.toml (cp conf/magchanger.toml ${file}, then set name, work_dir and [[magazine]] path), or pass the existing config with -c FILE`;
  return `edit ${file} as the message says (every key is explained in the example conf/magchanger.toml)`;
}
