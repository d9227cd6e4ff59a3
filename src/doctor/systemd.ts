// Are the refresh units unlock queues installed, running this binary, and is the timer enabled?
// Missing ones are warnings: the changer works, only Bacula hears of disk changes late.
import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { underPrefix } from "../setup/paths.ts";
import {
  REFRESH_SERVICE_PATH,
  REFRESH_TIMER_PATH,
  refreshDropIn,
  refreshDropInPath,
  refreshSeconds,
  refreshService,
  refreshTimer,
  REFRESH_TIMEOUT_S,
} from "../setup/systemd.ts";
import {
  configStem,
  installedUnit,
  isUnitInstance,
  REFRESH_SERVICE_TEMPLATE,
  REFRESH_TIMER_TEMPLATE,
  refreshUnit,
  SYSTEMD_UNIT_DIR,
} from "../system/systemd.ts";
import { type Check, ok, warn } from "./check.ts";
import { type DoctorContext, setupCommand } from "./context.ts";

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

export function checkRefreshUnits(ctx: DoctorContext): Check[] {
  const stem = configStem(ctx.configPath);
  if (!isUnitInstance(stem))
    return [
      warn(
        "refresh unit",
        `the config's file name "${stem}" cannot name a systemd unit: unlock cannot queue a refresh of Bacula`,
        `rename ${ctx.configFile} using letters, digits and _.:- only, and run magchanger setup --write on the new file`,
      ),
    ];
  return [...checkService(ctx, stem), ...checkTimer(ctx, stem)];
}

function checkService(ctx: DoctorContext, stem: string): Check[] {
  const name = "refresh unit";
  const found = installedUnit(REFRESH_SERVICE_TEMPLATE, ctx.prefix);
  const text = found === undefined ? undefined : read(found);
  if (found === undefined || text === undefined)
    return [
      warn(
        name,
        `${underPrefix(ctx.prefix, REFRESH_SERVICE_PATH)} is missing: Bacula hears of a disk change only from \`magchanger refresh\` run by hand`,
        setupCommand(ctx),
      ),
    ];
  const exec = /^ExecStart=(\S+) refresh -c (\S+)$/m.exec(text);
  if (!exec)
    return [
      warn(name, `${found} runs no \`magchanger refresh\``, setupCommand(ctx)),
    ];
  if (ctx.binary && !sameFile(exec[1] as string, ctx.binary))
    return [
      warn(
        name,
        `${found} runs ${exec[1]}, not this binary ${ctx.binary}`,
        setupCommand(ctx),
      ),
    ];
  const checks: Check[] = [];
  if (ctx.binary && text !== refreshService(ctx.binary))
    checks.push(
      warn(
        name,
        `${found} differs from what setup generates (edited by hand, or an older magchanger wrote it)`,
        setupCommand(ctx),
      ),
    );
  const dropIn = refreshDropIn({
    config: ctx.config,
    configPath: ctx.configPath,
    binary: ctx.binary ?? "",
    mediaType: ctx.config.name,
  });
  const dropInFile = underPrefix(ctx.prefix, refreshDropInPath(ctx.configPath));
  if (dropIn !== undefined && read(dropInFile) !== dropIn)
    checks.push(
      warn(
        name,
        `${dropInFile} is missing or outdated: a refresh of this changer may take ${refreshSeconds(ctx.config)} s (lock_timeout twice and [bacula] timeout), the template allows ${REFRESH_TIMEOUT_S} s`,
        setupCommand(ctx),
      ),
    );
  if (!checks.length)
    checks.push(
      ok(
        name,
        `${found} runs ${exec[1]} refresh; unlock queues ${refreshUnit(stem, "service")}`,
      ),
    );
  return checks;
}

function checkTimer(ctx: DoctorContext, stem: string): Check[] {
  const name = "refresh timer";
  const found = installedUnit(REFRESH_TIMER_TEMPLATE, ctx.prefix);
  const text = found === undefined ? undefined : read(found);
  const timer = refreshUnit(stem, "timer");
  if (found === undefined || text === undefined)
    return [
      warn(
        name,
        `${underPrefix(ctx.prefix, REFRESH_TIMER_PATH)} is missing: a Bacula update that failed is not retried`,
        setupCommand(ctx),
      ),
    ];
  const checks: Check[] = [];
  if (ctx.binary && text !== refreshTimer(ctx.binary))
    checks.push(
      warn(
        name,
        `${found} differs from what setup generates (edited by hand, or an older magchanger wrote it)`,
        setupCommand(ctx),
      ),
    );
  // What `systemctl enable` creates for the timer's WantedBy=timers.target.
  const wants = underPrefix(
    ctx.prefix,
    join(SYSTEMD_UNIT_DIR, "timers.target.wants", timer),
  );
  if (!exists(wants))
    checks.push(
      warn(
        name,
        `${timer} is not enabled: a Bacula update that failed waits for the next disk change`,
        `systemctl enable --now ${timer}`,
      ),
    );
  if (!checks.length)
    checks.push(ok(name, `${timer} is enabled (retries a pending update)`));
  return checks;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
