// Is the autofs map setup generates installed, does it run this binary, and does autofs use it?
import { existsSync } from "node:fs";
import {
  type AutofsBay,
  autofsBays,
  keyBay,
  type InstallPaths,
  installPaths,
  underPrefix,
} from "../config/layout.ts";
import { autofsMasterEntry } from "../setup/autofs.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import { type DoctorContext, setupCommand } from "./context.ts";
import { readIfExists, resolveToOnePath } from "./files.ts";
import { generateOptions } from "./install.ts";

export function checkAutofs(ctx: DoctorContext): Check[] {
  const bay = keyBay(ctx.config);
  if (!bay)
    return [
      ok(
        "autofs",
        `no bay path ends in /${ctx.config.automap.key} (automap.key): autofs is not used`,
      ),
    ];
  const paths = installPaths(ctx.config.name, ctx.configPath);
  const masterFile = underPrefix(ctx.prefix, paths.autofsMaster);
  const checks = [
    ...checkMasterEntry(ctx, bay, paths, masterFile),
    ...checkMapLink(ctx, paths),
    ...checkAutoMaster(ctx, bay),
  ];
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
        `${masterFile} mounts ${baysMounted(ctx)} through ${paths.autofsMap} -> ${ctx.binary}`,
      ),
    );
  return checks;
}

/** Each bay autofs mounts, with the mapping it mounts there when the disks are LUKS. */
function baysMounted(ctx: DoctorContext): string {
  const bays = autofsBays(ctx.config);
  return ctx.config.automap.luks
    ? bays.map((b) => `${b.path} (/dev/mapper/${b.mapper})`).join(", ")
    : bays.map((b) => b.path).join(", ");
}

/** The auto.master.d entry: there, mounting the bay's directory with our map, as generated. */
function checkMasterEntry(
  ctx: DoctorContext,
  bay: AutofsBay,
  paths: InstallPaths,
  masterFile: string,
): Check[] {
  const text = readIfExists(masterFile);
  const line = new RegExp(
    `^${escape(bay.mountDir)}\\s+(?:program:|exec:)?${escape(paths.autofsMap)}(\\s|$)`,
    "m",
  );
  if (text === undefined)
    return [
      fail(
        "autofs map",
        `${masterFile} is missing: nothing mounts ${bay.path}`,
        setupCommand(ctx),
      ),
    ];
  if (!line.test(text))
    return [
      fail(
        "autofs map",
        `${masterFile} does not mount ${bay.mountDir} with the map ${paths.autofsMap}`,
        setupCommand(ctx),
      ),
    ];
  if (
    ctx.binary &&
    text !== autofsMasterEntry(generateOptions(ctx, ctx.binary))
  )
    return [
      warn(
        "autofs map",
        `${masterFile} differs from what setup generates (edited by hand, or the config changed)`,
        setupCommand(ctx),
      ),
    ];
  return [];
}

/** The program map: a link to this binary. */
function checkMapLink(ctx: DoctorContext, paths: InstallPaths): Check[] {
  const mapFile = underPrefix(ctx.prefix, paths.autofsMap);
  if (!existsSync(mapFile))
    return [
      fail(
        "autofs map",
        `${mapFile} is missing: autofs has no map to run`,
        setupCommand(ctx),
      ),
    ];
  if (ctx.binary && !resolveToOnePath(mapFile, ctx.binary))
    return [
      fail(
        "autofs map",
        `${mapFile} is not a link to this binary ${ctx.binary}`,
        setupCommand(ctx),
      ),
    ];
  return [];
}

/** /etc/auto.master: installed, reading auto.master.d, without a hand-written entry of its own. */
function checkAutoMaster(ctx: DoctorContext, bay: AutofsBay): Check[] {
  const path = underPrefix(ctx.prefix, "/etc/auto.master");
  const master = readIfExists(path);
  if (master === undefined)
    return [
      fail(
        "autofs",
        `${path} is missing: autofs is not installed`,
        "apt-get install autofs",
      ),
    ];
  const checks: Check[] = [];
  if (!/^\s*\+dir:\/etc\/auto\.master\.d\s*$/m.test(master)) {
    checks.push(
      fail(
        "autofs",
        `${path} does not read /etc/auto.master.d`,
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
  return checks;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
