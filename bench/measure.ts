// Whole-process measurement: each sample is one (or, for load+unload, two) complete runs of the
// compiled binary, start-up included, as the storage daemon pays for it. Wall time is a
// monotonic clock read around Bun.spawnSync, with no wrapper process in the timing.
//
// Peak RSS comes from separate runs under `/usr/bin/time -f %M` (Debian package `time`). Not
// from Bun's resourceUsage.maxRSS of our own children: Linux carries the spawning process's
// high-water RSS over into the child's ru_maxrss at exec (the parent's mm is the child's until
// then), so a bench process that has grown to 100 MiB would report every child at >= 100 MiB.
// /usr/bin/time is a small parent, so its floor (~2 MiB) stays far below any Bun process.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TIME = "/usr/bin/time";

export interface Step {
  argv: string[];
  /** Checks the output of a run; returns a problem or undefined. */
  check?: (stdout: string) => string | undefined;
}

export interface Command {
  name: string;
  /** Switch the processes to this user and group (uid/gid for Bun.spawnSync). */
  ids?: { uid?: number; gid?: number };
  /** Run in order; a sample is their summed wall time and their largest peak RSS. */
  steps: Step[];
}

export interface Sample {
  ms: number;
  /** CPU time, user + sys, of the process(es) (getrusage of each reaped child). */
  cpuMs: number;
}

export interface Summary {
  median: number;
  /** Median CPU ms (user + sys). */
  cpu: number;
  min: number;
  max: number;
  /** NaN when /usr/bin/time is not installed. */
  peakMiB: number;
  runs: number;
  /** In round order: sample i of two commands was taken in the same round (for A/B ratios). */
  samples: Sample[];
}

function runStep(command: Command, step: Step, argv = step.argv): Sample {
  const start = performance.now();
  const result = Bun.spawnSync(argv, {
    stdout: "pipe",
    stderr: "pipe",
    ...command.ids,
  });
  const ms = performance.now() - start;
  const stderr = result.stderr.toString();
  const problem =
    result.exitCode !== 0
      ? `exit ${result.exitCode ?? result.signalCode}`
      : stderr !== ""
        ? "wrote to stderr"
        : step.check?.(result.stdout.toString());
  if (problem) {
    throw new Error(
      `${command.name}: \`${step.argv.join(" ")}\` ${problem}: ${stderr.trim().slice(0, 300)}`,
    );
  }
  const cpu = result.resourceUsage?.cpuTime;
  return {
    ms,
    cpuMs: cpu ? Number(cpu.user + cpu.system) / 1000 : Number.NaN,
  };
}

export function sampleOnce(command: Command): Sample {
  const sum = { ms: 0, cpuMs: 0 };
  for (const step of command.steps) {
    const one = runStep(command, step);
    sum.ms += one.ms;
    sum.cpuMs += one.cpuMs;
  }
  return sum;
}

/** The largest peak RSS (bytes) of the command's processes over `runs` runs; NaN without time. */
export function peakRss(command: Command, runs: number): number {
  if (!existsSync(TIME)) return Number.NaN;
  const dir = mkdtempSync(join(tmpdir(), "magchanger-rss-"));
  const out = join(dir, "rss");
  // /usr/bin/time runs as the measured user and writes its figure here.
  if (command.ids?.uid !== undefined) chmodSync(dir, 0o777);
  try {
    let peak = 0;
    for (let i = 0; i < runs; i++) {
      for (const step of command.steps) {
        runStep(command, step, [TIME, "-f", "%M", "-o", out, ...step.argv]);
        peak = Math.max(peak, Number(readFileSync(out, "utf8").trim()) * 1024);
      }
    }
    return peak;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the commands round-robin (warm-up rounds first, not counted), so a drift in machine speed
 * hits every command alike instead of whichever happened to run during it.
 */
export function measure(
  commands: Command[],
  warmups: number,
  runs: number,
  rssRuns = 3,
): Map<string, Summary> {
  const samples = new Map<string, Sample[]>(commands.map((c) => [c.name, []]));
  for (let round = 0; round < warmups + runs; round++) {
    for (const command of commands) {
      const sample = sampleOnce(command);
      if (round >= warmups) samples.get(command.name)?.push(sample);
    }
  }
  const result = new Map<string, Summary>();
  for (const command of commands) {
    const list = samples.get(command.name) ?? [];
    result.set(command.name, summarize(list, peakRss(command, rssRuns)));
  }
  return result;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (!sorted.length) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(samples: Sample[], rssBytes: number): Summary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    median: median(ms),
    cpu: median(samples.map((s) => s.cpuMs)),
    min: ms[0] ?? Number.NaN,
    max: ms[ms.length - 1] ?? Number.NaN,
    peakMiB: rssBytes / 2 ** 20,
    runs: samples.length,
    samples,
  };
}
