// Are the pieces setup generates installed, and do they run this binary? Compared with what
// setup would write now, so an edited or stale file is visible.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { PLACEHOLDER, sdStanza } from "../setup/bacula.ts";
import {
  type InstallPaths,
  installPaths,
  luksMappers,
  underPrefix,
} from "../config/layout.ts";
import { type GenerateOptions, udevRule } from "../setup/udev.ts";
import { readIfExists, resolveToOnePath } from "./files.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import { type DoctorContext, setupCommand } from "./context.ts";

export function generateOptions(
  ctx: DoctorContext,
  binary: string,
): GenerateOptions {
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
  const rule =
    text === undefined
      ? fail(
          "udev rule",
          `${file} is missing: attached LUKS disks are not opened`,
          setupCommand(ctx),
        )
      : checkRule(ctx, file, text);
  return [rule, ...seedRules(ctx)];
}

/** The installed rule runs this binary's unlock with luks.mapper, as setup generates it. */
function checkRule(ctx: DoctorContext, file: string, text: string): Check {
  const runs = [
    ...text.matchAll(/RUN\+="(\S+) unlock (?:--remove )?\S+ (\S+)"/g),
  ];
  const mapper = ctx.config.luks.mapper;
  const wrong = runs.find(
    (m) => ctx.binary && !resolveToOnePath(m[1] as string, ctx.binary),
  );
  if (runs.length === 0)
    return fail(
      "udev rule",
      `${file} runs no \`magchanger unlock\``,
      `${setupCommand(ctx)} (the old file is kept as .magchanger-bak)`,
    );
  if (wrong)
    return fail(
      "udev rule",
      `${file} runs ${wrong[1]}, not this binary ${ctx.binary}`,
      setupCommand(ctx),
    );
  if (runs.some((m) => m[2] !== mapper))
    return fail(
      "udev rule",
      `${file} opens a mapper other than luks.mapper = "${mapper}"`,
      setupCommand(ctx),
    );
  if (ctx.binary && text !== udevRule(generateOptions(ctx, ctx.binary)))
    return warn(
      "udev rule",
      `${file} runs this binary but differs from what setup generates (edited by hand, or the config changed)`,
      setupCommand(ctx),
    );
  const bays = luksMappers(ctx.config);
  return ok(
    "udev rule",
    bays.length === 1
      ? `${file} opens LUKS disks as /dev/mapper/${mapper} with ${runs[0]?.[1]}`
      : `${file} opens LUKS disks with ${runs[0]?.[1]} as the first free of ${bays.map((m) => `/dev/mapper/${m.name} (bay ${m.bay?.bay})`).join(", ")}`,
  );
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

export function checkBacula(ctx: DoctorContext): Check[] {
  const paths = installPaths(ctx.config.name, ctx.configPath);
  const sdFile = underPrefix(ctx.prefix, paths.sdStanza);
  const dirFile = underPrefix(ctx.prefix, paths.dirStanza);
  const dir = readIfExists(dirFile);
  const checks = [
    ...checkSdStanza(ctx, paths, sdFile),
    ...checkDirStanza(ctx, paths, dirFile, dir),
  ];
  if (!checks.length)
    checks.push(
      ok(
        "bacula",
        `${sdFile} is installed${dir !== undefined ? ` and ${dirFile} is filled in` : ""}`,
      ),
    );
  return checks;
}

/** The storage daemon's stanza: installed as generated, and included by bacula-sd.conf. */
function checkSdStanza(
  ctx: DoctorContext,
  paths: InstallPaths,
  sdFile: string,
): Check[] {
  const checks: Check[] = [];
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
  return checks;
}

/** The Director's stanza: its placeholders filled in, and included by bacula-dir.conf. */
function checkDirStanza(
  ctx: DoctorContext,
  paths: InstallPaths,
  dirFile: string,
  dir: string | undefined,
): Check[] {
  const dirMain = readIfExists(underPrefix(ctx.prefix, paths.dirMain));
  if (dir?.includes(`"${PLACEHOLDER}"`)) {
    const used = dirMain !== undefined && includes(dirMain, paths.dirStanza);
    const message = `${dirFile} still has ${PLACEHOLDER} placeholders for the storage daemon's Address and Password`;
    const fix = `edit ${paths.dirStanza}: Address and the Password of the Director resource in ${paths.sdMain}; then reload in bconsole`;
    return [
      used
        ? fail("bacula-dir", `${message}, and the Director includes it`, fix)
        : warn("bacula-dir", message, fix),
    ];
  }
  if (
    dirMain !== undefined &&
    dir !== undefined &&
    !includes(dirMain, paths.dirStanza)
  )
    return [
      warn(
        "bacula-dir",
        `${paths.dirMain} does not include ${paths.dirStanza}`,
        `${setupCommand(ctx)} (adds @${paths.dirStanza}); reload in bconsole`,
      ),
    ];
  return [];
}

function includes(text: string, file: string): boolean {
  return text
    .split("\n")
    .some((l) => l.trim() === `@${file}` || l.trim() === `@"${file}"`);
}
