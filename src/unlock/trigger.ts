// After unlock opened or closed a disk, Bacula must be told (`magchanger refresh`), but never from
// here: udev kills RUN+= programs after 180 s and their forked children when the event ends, and
// refresh waits for the changer lock and for bconsole, whose Director calls the changer back. So
// unlock only queues the unit setup installs: `systemctl restart --no-block` returns once systemd
// holds the job (no waiting on a unit that may itself wait for udev), and refresh runs as a
// service. restart, not start: a start of the oneshot while it still runs (the refresh of the
// plug, when the disk is pulled seconds later) merges into the running job, so the pull was never
// told and its stale mapping never released (seen on a real kernel). The refresh cut short this
// way leaves its pending mark and is repeated whole by the new one. This never fails unlock; but a refresh not queued is not retried by the timer (it only
// repeats a pending update, without scanning the bays), so the warning says to run it by hand.
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Log } from "../log.ts";
import type { Exec } from "../system/exec.ts";
import {
  configStem,
  installedUnit,
  isUnitInstance,
  REFRESH_SERVICE_TEMPLATE,
  refreshUnit,
  systemdBooted,
} from "../system/systemd.ts";
import { DEFAULT_CONFIG_DIR } from "../config/discover.ts";
import { lastLines } from "../text.ts";
import { statOrUndefined } from "../state/safe-fs.ts";

/** systemctl only hands a job to systemd: more than this and it is stuck, not busy. */
export const SYSTEMCTL_TIMEOUT_MS = 5_000;

export interface TriggerDeps {
  exec: Exec;
  log: Log;
  /** MAGCHANGER_SYSTEMD_ROOT: where /run/systemd and the units are looked for (tests). */
  env: Record<string, string | undefined>;
}

export type TriggerOutcome = "queued" | "skipped" | "failed";

export async function queueRefresh(
  config: Config,
  deps: TriggerDeps,
): Promise<TriggerOutcome> {
  try {
    return await queue(config, deps);
  } catch (error) {
    deps.log.warn(
      `could not queue the refresh of Bacula: ${(error as Error).message}; run magchanger refresh -c ${config.source}`,
    );
    return "failed";
  }
}

async function queue(
  config: Config,
  deps: TriggerDeps,
): Promise<TriggerOutcome> {
  const { log } = deps;
  const root = deps.env.MAGCHANGER_SYSTEMD_ROOT || "/";
  const byHand = `run magchanger refresh -c ${config.source} to tell Bacula`;
  const stem = configStem(config.source);
  if (!systemdBooted(root)) {
    log.debug(
      `systemd is not running (no /run/systemd/system): no refresh queued; ${byHand}`,
    );
    return "skipped";
  }
  if (!isUnitInstance(stem)) {
    log.info(
      `config file name "${stem}" cannot name a systemd unit: no refresh queued; rename ${config.source} with letters, digits and _.:- only, or ${byHand}`,
    );
    return "skipped";
  }
  const unit = refreshUnit(stem, "service");
  if (!installedUnit(REFRESH_SERVICE_TEMPLATE, root)) {
    log.info(
      `${REFRESH_SERVICE_TEMPLATE} is not installed: no refresh queued; run magchanger setup -c ${config.source} --write, or ${byHand}`,
    );
    return "skipped";
  }
  const unitConfig = join(DEFAULT_CONFIG_DIR, `${stem}.toml`);
  if (!sameInode(join(root, unitConfig), config.source)) {
    log.info(
      `${unit} reads ${unitConfig}, which is not ${config.source}: no refresh queued; install the config as ${unitConfig}, or ${byHand}`,
    );
    return "skipped";
  }
  const systemctl = config.tools.systemctl;
  if (!statOrUndefined(systemctl)) {
    log.info(
      `${systemctl} is not installed: no refresh queued; set [tools] systemctl in ${config.source}, or ${byHand}`,
    );
    return "skipped";
  }
  const argv = [systemctl, "restart", "--no-block", unit];
  const result = await deps.exec(argv, { timeoutMs: SYSTEMCTL_TIMEOUT_MS });
  if (result.timedOut || result.exitCode !== 0) {
    const why = result.timedOut
      ? `timed out after ${SYSTEMCTL_TIMEOUT_MS / 1000} s and was killed`
      : `failed with exit ${result.exitCode}${lastLines(result.stderr) ? `: ${lastLines(result.stderr)}` : ""}`;
    log.warn(`${argv.join(" ")} ${why}: no refresh queued; ${byHand}`);
    return "failed";
  }
  log.info(`queued ${unit}: Bacula is told in the background`);
  return "queued";
}

/** One file under both names (dev and inode): a link or a hard link counts, a copy does not. */
function sameInode(a: string, b: string): boolean {
  const x = statOrUndefined(a);
  const y = statOrUndefined(b);
  return (
    x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino
  );
}
