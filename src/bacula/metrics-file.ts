// `status --prometheus FILE`: the metrics file node_exporter's textfile collector reads, replaced
// atomically (temp + fsync + rename: the collector never reads half a file, and ignores the
// temp's dot-name). Debian's collector directory /var/lib/prometheus/node-exporter is root's,
// while a changer's state is read as its run-as user; so as root this binary runs itself as a
// child (which switches to the run-as user like every command and prints the metrics) and only
// the writing is root's, into a directory root alone controls.
import { dirname, resolve } from "node:path";
import type { ChangerContext } from "../changer/context.ts";
import { readConfigFile } from "../config/load.ts";
import { AppError } from "../errors.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { untrustedComponent } from "../state/safe-fs.ts";
import { exec, toolEnvironment } from "../system/exec.ts";
import { selfArgv } from "../system/self.ts";
import { lastLines } from "../text.ts";
import { monitorFacts } from "./monitor.ts";
import { renderMetrics } from "./prometheus.ts";

/**
 * bconsole's bound for the metrics (at most [bacula] timeout): a cron line runs them every
 * minute, and runs waiting on a hung Director must not pile up.
 */
const BCONSOLE_SECONDS = 20;
/** Far more than any changer's metrics (a few hundred bytes per magazine). */
const MAX_METRICS_BYTES = 4 * 1024 * 1024;
/** What renderMetrics writes, and nothing else: the child runs as the run-as user. */
const METRIC_LINE =
  /^(?:# (?:HELP|TYPE) magchanger_[a-z_]+ [^\x00-\x1f\x7f]+|magchanger_[a-z_]+\{[^\x00-\x1f\x7f]*\} -?\d+(?:\.\d+)?)$/;

export async function metricsText(ctx: ChangerContext): Promise<string> {
  return renderMetrics(
    await monitorFacts(ctx, {
      askStorage: true,
      timeoutSeconds: BCONSOLE_SECONDS,
    }),
  );
}

/** As the run-as user (or any user but root): write what this process gathered. */
export async function writeMetrics(
  ctx: ChangerContext,
  file: string,
): Promise<void> {
  writeFileAtomic(resolve(file), await metricsText(ctx), 0o644);
}

/** As root: the metrics gathered by a child as the run-as user, written by root. */
export async function writeMetricsAsRoot(
  configFile: string,
  file: string,
): Promise<void> {
  const target = resolve(file);
  const why = untrustedComponent(dirname(target));
  if (why)
    throw new AppError(
      `refusing to write ${target} as root: ${why}; use a directory only root can change, such as /var/lib/prometheus/node-exporter`,
    );
  // Read as root (the trust checks), for the run-as user's name in messages.
  const { config } = readConfigFile(resolve(configFile), { useCache: false });
  const result = await exec(
    [...selfArgv(), "status", "-c", resolve(configFile), "--prometheus", "-"],
    { timeoutMs: (BCONSOLE_SECONDS + 40) * 1000, env: toolEnvironment() },
  );
  if (result.exitCode !== 0 || result.timedOut)
    throw new AppError(
      `status --prometheus: gathering the metrics as ${config.user} failed: ${lastLines(result.stderr) || `exit ${result.exitCode}`}; ${target} is unchanged`,
      { exitCode: result.exitCode > 0 ? result.exitCode : 1 },
    );
  const text = result.stdout;
  const lines = text.split("\n").slice(0, -1);
  if (
    text.length > MAX_METRICS_BYTES ||
    !text.endsWith("\n") ||
    !lines.every((l) => METRIC_LINE.test(l))
  )
    throw new AppError(
      `status --prometheus: the metrics gathered as ${config.user} are not in the expected form; ${target} is unchanged`,
    );
  writeFileAtomic(target, text, 0o644);
}
