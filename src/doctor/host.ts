// Checks of the host around the changer: the config file itself, the run-as identity, the log
// (the work dir is workdir.ts), the LUKS key file, the binary udev and autofs run as root, and bconsole.
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError, errnoCode } from "../errors.ts";
import { groupNameOf, lookupGroup, lookupUser } from "../system/identity.ts";
import { luksMappers, underPrefix } from "../config/layout.ts";
import { scanConfigs } from "../config/discover.ts";
import { checkKeyFile } from "../unlock/keyfile.ts";
import { statOrUndefined } from "../state/safe-fs.ts";
import { denied, linkAdvice, ownershipFix, R, W, X } from "./access.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import { type DoctorContext, setupCommand } from "./context.ts";

export function checkConfigFile(ctx: DoctorContext): Check[] {
  const { config, configFile, configPath } = ctx;
  const checks: Check[] = [
    ok(
      "config",
      `${configFile} is valid: changer ${config.name}, ${config.drives} drive(s), ${config.magazine.length} bay(s)`,
    ),
  ];
  const stats = statSync(configFile);
  if (stats.uid !== 0 || (stats.mode & 0o022) !== 0) {
    checks.push(
      fail(
        "config owner",
        `${configFile} is owned by uid ${stats.uid} with mode ${(stats.mode & 0o7777).toString(8)}: unlock and automap run as root and refuse a config others can change`,
        ownershipFix(
          configFile,
          `chown root:root ${configFile}; chmod 0644 ${configFile}`,
        ),
      ),
    );
  }
  if (ctx.who) {
    const why = denied(configFile, ctx.who, R);
    if (why)
      checks.push(
        fail(
          "config access",
          `the storage daemon runs the changer as ${ctx.who.name}: ${why}`,
          ownershipFix(
            configFile,
            `chmod 0644 ${configFile} (it holds no secrets)`,
          ),
        ),
      );
  }
  const dir = underPrefix(ctx.prefix, ctx.configDir);
  if (dirname(configPath) !== ctx.configDir) {
    checks.push(
      warn(
        "config location",
        `unlock (udev) and automap (autofs) find configs in ${ctx.configDir}, not ${dirname(configPath)}`,
        `install it as ${ctx.configDir}/${config.name}.toml (cp ${configFile} ${dir}/${config.name}.toml) and use that path everywhere`,
      ),
    );
  } else {
    // Every mapping name of a changer (luks.mapper and its bays'): the kernel's dm UUID names
    // the mapping, not the changer, so one name in two changers is one mapping to both.
    const mine = luksMappers(config).map((m) => m.name);
    const others = scanConfigs(dir).configs.filter(
      (c) =>
        c.source !== configFile &&
        luksMappers(c).some((m) => mine.includes(m.name)),
    );
    if (others.length) {
      const shared = [
        ...new Set(
          others.flatMap((c) =>
            luksMappers(c)
              .map((m) => m.name)
              .filter((n) => mine.includes(n)),
          ),
        ),
      ];
      const same =
        shared.length === 1 &&
        others.every((c) => c.luks.mapper === config.luks.mapper)
          ? `luks.mapper = "${config.luks.mapper}"`
          : `the mapping name ${shared.map((n) => `"${n}"`).join(", ")}`;
      checks.push(
        fail(
          "mapper name",
          `${others.map((c) => c.source).join(", ")} also use ${same}: udev's unlock cannot tell the changers apart`,
          `give each changer its own [luks] mapper and [[magazine]] mappers in ${configFile}`,
        ),
      );
    }
  }
  return checks;
}

export function checkIdentity(ctx: DoctorContext): Check[] {
  const { config } = ctx;
  const user = lookupUser(config.user);
  const group = lookupGroup(config.group);
  return [
    user
      ? ok("run-as user", `${config.user} exists (uid ${user.uid})`)
      : fail(
          "run-as user",
          `user "${config.user}" does not exist: the changer refuses to run instead of staying root`,
          `apt-get install bacula-sd (it creates bacula), or set user = "..." in ${ctx.configFile}`,
        ),
    group
      ? ok("run-as group", `${config.group} exists (gid ${group.gid})`)
      : fail(
          "run-as group",
          `group "${config.group}" does not exist`,
          `groupadd --system ${config.group}, or set group = "..." in ${ctx.configFile}`,
        ),
  ];
}

export function checkLog(ctx: DoctorContext): Check[] {
  const { config, who } = ctx;
  const file = config.log_file;
  if (config.log_level === "off")
    return [ok("log", "logging is off (log_level)")];
  if (!who) return [];
  const owner = `${config.user}:${config.group}`;
  const link = linkAdvice(file);
  if (link)
    return [
      warn(
        "log",
        `${file} is a symbolic link: unlock (root) never writes through one, so its diagnostics are lost`,
        `${link} (or let ${setupCommand(ctx)} create it owned by ${owner})`,
      ),
    ];
  const exists = statOrUndefined(file) !== undefined;
  const why = exists ? denied(file, who, W) : denied(dirname(file), who, W | X);
  if (!why) return [ok("log", `${file} is writable by ${who.name}`)];
  return [
    warn(
      "log",
      `the changer's diagnostics are lost: ${why}`,
      exists
        ? `chown ${owner} ${file}`
        : `${setupCommand(ctx)} (creates ${file} owned by ${owner})`,
    ),
  ];
}

export function checkKey(ctx: DoctorContext): Check[] {
  const { config } = ctx;
  const path = config.luks.key_file;
  const stats = statOrUndefined(path);
  if (!config.automap.luks && !stats)
    return [ok("key file", "not used (automap.luks = false)")];
  // unlock's own check decides; the message here splits problem and fix.
  try {
    checkKeyFile(path, ctx.configFile);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const name = "key file";
    if (!stats)
      return [
        fail(
          name,
          `${path} (luks.key_file) does not exist: unlock cannot open any disk`,
          `${setupCommand(ctx)} (creates a random key), or point luks.key_file at the key the disks were formatted with`,
        ),
      ];
    if (!stats.isFile())
      return [
        fail(
          name,
          `${path} (luks.key_file) is not a regular file`,
          "point luks.key_file at the key file",
        ),
      ];
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, "0");
    if (stats.uid !== 0 || (stats.mode & 0o077) !== 0) {
      return [
        fail(
          name,
          `${path} is owned by uid ${stats.uid} with mode ${mode}: unlock refuses a key others can read or replace`,
          ownershipFix(path, `chown root:root ${path}; chmod 0400 ${path}`),
        ),
      ];
    }
    return [
      fail(
        name,
        error.message,
        "write the key the disks were formatted with into it",
      ),
    ];
  }
  return [
    ok(
      "key file",
      `${path} is root's alone (mode ${((stats?.mode ?? 0) & 0o777).toString(8).padStart(4, "0")})`,
    ),
  ];
}

export function checkBinary(ctx: DoctorContext): Check[] {
  const binary = ctx.binary;
  if (!binary)
    return [
      warn(
        "binary",
        "doctor runs from source, so the installed files cannot be compared with a binary",
        "run the installed binary, or pass --binary PATH",
      ),
    ];
  const stats = statOrUndefined(binary);
  if (!stats)
    return [
      fail(
        "binary",
        `${binary} does not exist`,
        `install -m 0755 dist/magchanger ${binary}`,
      ),
    ];
  if (stats.uid !== 0 || (stats.mode & 0o022) !== 0) {
    return [
      fail(
        "binary",
        `${binary} runs as root from udev and autofs but others can replace it (uid ${stats.uid}, mode ${(stats.mode & 0o7777).toString(8)})`,
        ownershipFix(binary, `chown root:root ${binary}; chmod 0755 ${binary}`),
      ),
    ];
  }
  return [ok("binary", `${binary} is root's and not writable by others`)];
}

export function checkBconsole(ctx: DoctorContext): Check[] {
  const { bconsole, config } = ctx.config.bacula;
  const stats = statOrUndefined(bconsole);
  if (!stats || !stats.isFile() || (stats.mode & 0o111) === 0) {
    return [
      warn(
        "bconsole",
        `${bconsole} is not an executable: \`magchanger refresh\` cannot tell Bacula about new or removed volumes`,
        `apt-get install bacula-console, or set [bacula] bconsole = "..." in ${ctx.configFile}`,
      ),
    ];
  }
  try {
    statSync(config);
  } catch (error) {
    return [
      warn(
        "bconsole",
        `bconsole's config ${config}: ${errnoCode(error) ?? error}`,
        `set [bacula] config = "..." in ${ctx.configFile} to the bconsole.conf that reaches your Director`,
      ),
    ];
  }
  const who = ctx.who;
  const why = who ? denied(config, who, R) : undefined;
  if (who && why) {
    const stats = statSync(config);
    return [
      warn(
        "bconsole",
        `\`magchanger refresh\` runs bconsole as ${ctx.config.user}:${ctx.config.group} (with ${ctx.config.user}'s primary and supplementary groups): ${why}`,
        `usermod -a -G ${groupNameOf(stats.gid)} ${ctx.config.user} (then it may read it), or chgrp ${ctx.config.group} ${config}`,
      ),
    ];
  }
  return [
    ok(
      "bconsole",
      `${bconsole} with ${config}${who ? `, readable by ${who.name}` : ""}`,
    ),
  ];
}
