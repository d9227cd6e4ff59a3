// Are the pieces setup generates installed, and do they run this binary? Compared with what
// setup would write now, so an edited or stale file is visible.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { autofsMasterEntry } from "../setup/autofs.ts";
import { PLACEHOLDER, sdStanza } from "../setup/bacula.ts";
import { autofsBay, installPaths, underPrefix } from "../config/layout.ts";
import { type GenerateOptions, udevRule } from "../setup/udev.ts";
import { readIfExists, resolveToOnePath } from "./files.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import { type DoctorContext, setupCommand } from "./context.ts";

function generateOptions(ctx: DoctorContext, binary: string): GenerateOptions {
  // The Media Type is not in the config: take it from the installed stanza, so only real drift shows.
  const installed =
    readIfExists(
      underPrefix(
        ctx.prefix,
        installPaths(ctx.config.name, ctx.configPath).sdStanza,
      ),
    ) ?? "";
  const mediaType =
    /Media Type = "([^"]*)"/.exec(installed)?.[1] ?? ctx.config.name;
  return { config: ctx.config, configPath: ctx.configPath, binary, mediaType };
}

export function checkUdev(ctx: DoctorContext): Check[] {
  const paths = installPaths(ctx.config.name, ctx.configPath);
  const file = underPrefix(ctx.prefix, paths.udevRule);
  const text = readIfExists(file);
  const checks: Check[] = [];
  if (text === undefined) {
    checks.push(
      fail(
        "udev rule",
        `${file} is missing: attached LUKS disks are not opened`,
        setupCommand(ctx),
      ),
    );
  } else {
    const runs = [
      ...text.matchAll(/RUN\+="(\S+) unlock (?:--remove )?\S+ (\S+)"/g),
    ];
    const mapper = ctx.config.luks.mapper;
    const wrong = runs.find(
      (m) => ctx.binary && !resolveToOnePath(m[1] as string, ctx.binary),
    );
    if (runs.length === 0)
      checks.push(
        fail(
          "udev rule",
          `${file} runs no \`magchanger unlock\``,
          `${setupCommand(ctx)} (the old file is kept as .magchanger-bak)`,
        ),
      );
    else if (wrong)
      checks.push(
        fail(
          "udev rule",
          `${file} runs ${wrong[1]}, not this binary ${ctx.binary}`,
          setupCommand(ctx),
        ),
      );
    else if (runs.some((m) => m[2] !== mapper))
      checks.push(
        fail(
          "udev rule",
          `${file} opens a mapper other than luks.mapper = "${mapper}"`,
          setupCommand(ctx),
        ),
      );
    else if (
      ctx.binary &&
      text !== udevRule(generateOptions(ctx, ctx.binary))
    ) {
      checks.push(
        warn(
          "udev rule",
          `${file} runs this binary but differs from what setup generates (edited by hand, or the config changed)`,
          setupCommand(ctx),
        ),
      );
    } else
      checks.push(
        ok(
          "udev rule",
          `${file} opens LUKS disks as /dev/mapper/${mapper} with ${runs[0]?.[1]}`,
        ),
      );
  }
  checks.push(...seedRules(ctx));
  return checks;
}

/** The seed's hand-written rule would open the disk a second time, with another name. */
function seedRules(ctx: DoctorContext): Check[] {
  const dir = underPrefix(ctx.prefix, "/etc/udev/rules.d");
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".rules"));
  } catch {
    return [];
  }
  const checks: Check[] = [];
  for (const name of names) {
    const text = readIfExists(join(dir, name)) ?? "";
    if (
      /unlock-luks|BUS==|luksOpen/.test(text) &&
      !text.includes("magchanger unlock")
    ) {
      checks.push(
        warn(
          "udev rule",
          `${join(dir, name)} looks like the hand-written rule magchanger replaces (unlock-luks, BUS==, luksOpen)`,
          `rm ${join(dir, name)} (after checking it); udevadm control --reload`,
        ),
      );
    }
  }
  return checks;
}

export function checkAutofs(ctx: DoctorContext): Check[] {
  const bay = autofsBay(ctx.config);
  if (!bay)
    return [
      ok(
        "autofs",
        `no bay path ends in /${ctx.config.automap.key} (automap.key): autofs is not used`,
      ),
    ];
  const paths = installPaths(ctx.config.name, ctx.configPath);
  const masterFile = underPrefix(ctx.prefix, paths.autofsMaster);
  const mapFile = underPrefix(ctx.prefix, paths.autofsMap);
  const checks: Check[] = [];
  const text = readIfExists(masterFile);
  const line = new RegExp(
    `^${escape(bay.mountDir)}\\s+(?:program:|exec:)?${escape(paths.autofsMap)}(\\s|$)`,
    "m",
  );
  if (text === undefined)
    checks.push(
      fail(
        "autofs map",
        `${masterFile} is missing: nothing mounts ${bay.path}`,
        setupCommand(ctx),
      ),
    );
  else if (!line.test(text))
    checks.push(
      fail(
        "autofs map",
        `${masterFile} does not mount ${bay.mountDir} with the map ${paths.autofsMap}`,
        setupCommand(ctx),
      ),
    );
  else if (
    ctx.binary &&
    text !== autofsMasterEntry(generateOptions(ctx, ctx.binary))
  ) {
    checks.push(
      warn(
        "autofs map",
        `${masterFile} differs from what setup generates (edited by hand, or the config changed)`,
        setupCommand(ctx),
      ),
    );
  }
  if (!existsSync(mapFile))
    checks.push(
      fail(
        "autofs map",
        `${mapFile} is missing: autofs has no map to run`,
        setupCommand(ctx),
      ),
    );
  else if (ctx.binary && !resolveToOnePath(mapFile, ctx.binary))
    checks.push(
      fail(
        "autofs map",
        `${mapFile} is not a link to this binary ${ctx.binary}`,
        setupCommand(ctx),
      ),
    );
  const master = readIfExists(underPrefix(ctx.prefix, "/etc/auto.master"));
  if (master === undefined) {
    checks.push(
      fail(
        "autofs",
        `${underPrefix(ctx.prefix, "/etc/auto.master")} is missing: autofs is not installed`,
        "apt-get install autofs",
      ),
    );
  } else {
    if (!/^\s*\+dir:\/etc\/auto\.master\.d\s*$/m.test(master)) {
      checks.push(
        fail(
          "autofs",
          `${underPrefix(ctx.prefix, "/etc/auto.master")} does not read /etc/auto.master.d`,
          "add the line +dir:/etc/auto.master.d to /etc/auto.master; systemctl reload autofs",
        ),
      );
    }
    if (new RegExp(`^\\s*${escape(bay.mountDir)}\\s`, "m").test(master)) {
      checks.push(
        warn(
          "autofs",
          `/etc/auto.master has its own entry for ${bay.mountDir} (the seed's hand-written map); autofs uses only one of them`,
          `remove that line from /etc/auto.master; systemctl reload autofs`,
        ),
      );
    }
  }
  if (ctx.prefix === "/" && checks.every((c) => c.status !== "fail")) {
    const mounted = ctx.sys
      .mounts()
      .find((m) => m.fsType === "autofs" && m.mountPoint === bay.mountDir);
    if (!mounted)
      checks.push(
        warn(
          "autofs",
          `autofs does not manage ${bay.mountDir} yet`,
          "systemctl reload autofs (or systemctl start autofs)",
        ),
      );
  }
  if (!checks.length)
    checks.push(
      ok(
        "autofs map",
        `${masterFile} mounts ${bay.path} through ${paths.autofsMap} -> ${ctx.binary}`,
      ),
    );
  return checks;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function checkBacula(ctx: DoctorContext): Check[] {
  const paths = installPaths(ctx.config.name, ctx.configPath);
  const checks: Check[] = [];
  const sdFile = underPrefix(ctx.prefix, paths.sdStanza);
  const sd = readIfExists(sdFile);
  if (sd === undefined) {
    checks.push(
      fail(
        "bacula-sd",
        `${sdFile} is missing: the storage daemon has no Autochanger for this changer`,
        setupCommand(ctx),
      ),
    );
  } else if (ctx.binary && sd !== sdStanza(generateOptions(ctx, ctx.binary))) {
    checks.push(
      warn(
        "bacula-sd",
        `${sdFile} differs from what setup generates (the config, the binary or the drive count changed?)`,
        setupCommand(ctx),
      ),
    );
  }
  const sdMain = readIfExists(underPrefix(ctx.prefix, paths.sdMain));
  if (
    sdMain !== undefined &&
    !includes(sdMain, paths.sdStanza) &&
    !sdMain.includes(ctx.configPath)
  ) {
    checks.push(
      fail(
        "bacula-sd",
        `${paths.sdMain} does not include ${paths.sdStanza}`,
        `${setupCommand(ctx)} (adds @${paths.sdStanza}); systemctl restart bacula-sd`,
      ),
    );
  }
  const dirFile = underPrefix(ctx.prefix, paths.dirStanza);
  const dir = readIfExists(dirFile);
  const dirMain = readIfExists(underPrefix(ctx.prefix, paths.dirMain));
  if (dir?.includes(`"${PLACEHOLDER}"`)) {
    const used = dirMain !== undefined && includes(dirMain, paths.dirStanza);
    const message = `${dirFile} still has ${PLACEHOLDER} placeholders for the storage daemon's Address and Password`;
    const fix = `edit ${paths.dirStanza}: Address and the Password of the Director resource in ${paths.sdMain}; then reload in bconsole`;
    checks.push(
      used
        ? fail("bacula-dir", `${message}, and the Director includes it`, fix)
        : warn("bacula-dir", message, fix),
    );
  } else if (
    dirMain !== undefined &&
    dir !== undefined &&
    !includes(dirMain, paths.dirStanza)
  ) {
    checks.push(
      warn(
        "bacula-dir",
        `${paths.dirMain} does not include ${paths.dirStanza}`,
        `${setupCommand(ctx)} (adds @${paths.dirStanza}); reload in bconsole`,
      ),
    );
  }
  if (!checks.length)
    checks.push(
      ok(
        "bacula",
        `${sdFile} is installed${dir !== undefined ? ` and ${dirFile} is filled in` : ""}`,
      ),
    );
  return checks;
}

function includes(text: string, file: string): boolean {
  return text
    .split("\n")
    .some((l) => l.trim() === `@${file}` || l.trim() === `@"${file}"`);
}
