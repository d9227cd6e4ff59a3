// Are the refresh units installed (the service unlock queues, the timer and the retry service it
// starts), running this binary, and is the timer enabled?
// Missing ones are warnings: the changer works, only Bacula hears of disk changes late.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { underPrefix } from "../config/layout.ts";
import {
  REFRESH_SERVICE_PATH,
  REFRESH_TIMER_PATH,
  refreshDropIn,
  refreshDropInPath,
  refreshSeconds,
  refreshStopSeconds,
  refreshService,
  refreshTimer,
  REFRESH_STOP_TIMEOUT_S,
  REFRESH_TIMEOUT_S,
  RETRY_SERVICE_PATH,
  retryService,
} from "../setup/systemd.ts";
import {
  configStem,
  installedUnit,
  isUnitInstance,
  REFRESH_SERVICE_TEMPLATE,
  REFRESH_TIMER_TEMPLATE,
  refreshUnit,
  RETRY_SERVICE_TEMPLATE,
  retryUnit,
  SYSTEMD_UNIT_DIR,
} from "../system/systemd.ts";
import { readIfExists, resolveToOnePath } from "./files.ts";
import { type Check, ok, warn } from "./check.ts";
import { type DoctorContext, setupCommand } from "./context.ts";

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
  return [
    ...checkService(ctx, stem, SERVICES.refresh),
    ...checkTimer(ctx, stem),
    ...checkService(ctx, stem, SERVICES.retry),
  ];
}

interface Service {
  name: string;
  kind: "refresh" | "retry";
  template: string;
  path: string;
  /** What the unit runs after the binary, before -c. */
  command: string;
  text: (binary: string) => string;
  missing: string;
  ok: (stem: string) => string;
}

const SERVICES: Record<"refresh" | "retry", Service> = {
  refresh: {
    name: "refresh unit",
    kind: "refresh",
    template: REFRESH_SERVICE_TEMPLATE,
    path: REFRESH_SERVICE_PATH,
    command: "refresh",
    text: refreshService,
    missing:
      "Bacula hears of a disk change only from `magchanger refresh` run by hand",
    ok: (stem) => `unlock queues ${refreshUnit(stem, "service")}`,
  },
  retry: {
    name: "refresh retry unit",
    kind: "retry",
    template: RETRY_SERVICE_TEMPLATE,
    path: RETRY_SERVICE_PATH,
    command: "refresh --if-pending",
    text: retryService,
    missing: `${REFRESH_TIMER_TEMPLATE} has nothing to start: a Bacula update that failed is not retried`,
    ok: (stem) => `${refreshUnit(stem, "timer")} starts ${retryUnit(stem)}`,
  },
};

function checkService(
  ctx: DoctorContext,
  stem: string,
  service: Service,
): Check[] {
  const { name } = service;
  const found = installedUnit(service.template, ctx.prefix);
  const text = found === undefined ? undefined : readIfExists(found);
  if (found === undefined || text === undefined)
    return [
      warn(
        name,
        `${underPrefix(ctx.prefix, service.path)} is missing: ${service.missing}`,
        setupCommand(ctx),
      ),
    ];
  const exec = new RegExp(
    `^ExecStart=(\\S+) ${service.command} -c (\\S+)$`,
    "m",
  ).exec(text);
  if (!exec)
    return [
      warn(
        name,
        `${found} runs no \`magchanger ${service.command}\``,
        setupCommand(ctx),
      ),
    ];
  if (ctx.binary && !resolveToOnePath(exec[1] as string, ctx.binary))
    return [
      warn(
        name,
        `${found} runs ${exec[1]}, not this binary ${ctx.binary}`,
        setupCommand(ctx),
      ),
    ];
  const checks: Check[] = [];
  if (ctx.binary && text !== service.text(ctx.binary))
    checks.push(
      warn(
        name,
        `${found} differs from what setup generates (edited by hand, or an older magchanger wrote it)`,
        setupCommand(ctx),
      ),
    );
  const dropIn = checkDropIn(ctx, service);
  if (dropIn) checks.push(dropIn);
  if (!checks.length)
    checks.push(
      ok(
        name,
        `${found} runs ${exec[1]} ${service.command}; ${service.ok(stem)}`,
      ),
    );
  return checks;
}

/** The drop-in that gives this changer's refresh the time its lock and bconsole timeouts need. */
function checkDropIn(ctx: DoctorContext, service: Service): Check | undefined {
  const dropIn = refreshDropIn({
    config: ctx.config,
    configPath: ctx.configPath,
    binary: ctx.binary ?? "",
    mediaType: ctx.config.name,
  });
  const dropInFile = underPrefix(
    ctx.prefix,
    refreshDropInPath(ctx.configPath, service.kind),
  );
  if (dropIn === undefined || readIfExists(dropInFile) === dropIn)
    return undefined;
  return warn(
    service.name,
    `${dropInFile} is missing or outdated: ${[
      refreshSeconds(ctx.config) > REFRESH_TIMEOUT_S
        ? `a refresh of this changer may take ${refreshSeconds(ctx.config)} s (lock_timeout twice and [bacula] timeout), the template allows ${REFRESH_TIMEOUT_S} s`
        : undefined,
      refreshStopSeconds(ctx.config) > REFRESH_STOP_TIMEOUT_S
        ? `a stopped refresh's notifier may run ${ctx.config.notify?.timeout} s ([notify] timeout), the template waits ${REFRESH_STOP_TIMEOUT_S} s before it kills it`
        : undefined,
    ]
      .filter((why) => why !== undefined)
      .join("; ")}`,
    setupCommand(ctx),
  );
}

function checkTimer(ctx: DoctorContext, stem: string): Check[] {
  const name = "refresh timer";
  const found = installedUnit(REFRESH_TIMER_TEMPLATE, ctx.prefix);
  const text = found === undefined ? undefined : readIfExists(found);
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
