// Whole-process measurement: each sample is one (or, for load+unload, two) complete runs of the
// compiled binary, start-up included, as the storage daemon pays for it. Wall time is a
// monotonic clock read around Bun.spawnSync; peak RSS is the kernel's own accounting of the
// reaped child (wait4 rusage ru_maxrss, which Bun exposes as resourceUsage.maxRSS in bytes),
// the same figure `/usr/bin/time -f %M` prints, without a wrapper process in the timing.

export interface Step {
  argv: string[];
  /** Checks the output of a run; returns a problem or undefined. */
  check?: (stdout: string) => string | undefined;
}

export interface Command {
  name: string;
  /** Run in order; a sample is their summed wall time and their largest peak RSS. */
  steps: Step[];
}

export interface Sample {
  ms: number;
  rssBytes: number;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  peakMiB: number;
  runs: number;
}

export function sampleOnce(command: Command): Sample {
  let ms = 0;
  let rssBytes = 0;
  for (const step of command.steps) {
    const start = performance.now();
    const result = Bun.spawnSync(step.argv, { stdout: "pipe", stderr: "pipe" });
    ms += performance.now() - start;
    const stderr = result.stderr.toString();
    const stdout = result.stdout.toString();
    const problem =
      result.exitCode !== 0
        ? `exit ${result.exitCode ?? result.signalCode}`
        : stderr !== ""
          ? "wrote to stderr"
          : step.check?.(stdout);
    if (problem) {
      throw new Error(
        `${command.name}: \`${step.argv.join(" ")}\` ${problem}: ${stderr.trim().slice(0, 300)}`,
      );
    }
    rssBytes = Math.max(rssBytes, result.resourceUsage.maxRSS);
  }
  return { ms, rssBytes };
}

/**
 * Runs the commands round-robin (warm-up rounds first, not counted), so a drift in machine speed
 * hits every command alike instead of whichever happened to run during it.
 */
export function measure(
  commands: Command[],
  warmups: number,
  runs: number,
): Map<string, Summary> {
  const samples = new Map<string, Sample[]>(commands.map((c) => [c.name, []]));
  for (let round = 0; round < warmups + runs; round++) {
    for (const command of commands) {
      const sample = sampleOnce(command);
      if (round >= warmups) samples.get(command.name)?.push(sample);
    }
  }
  const result = new Map<string, Summary>();
  for (const [name, list] of samples) result.set(name, summarize(list));
  return result;
}

export function summarize(samples: Sample[]): Summary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const mid = ms.length >> 1;
  const median =
    ms.length % 2
      ? (ms[mid] as number)
      : ((ms[mid - 1] as number) + (ms[mid] as number)) / 2;
  return {
    median,
    min: ms[0] ?? Number.NaN,
    max: ms[ms.length - 1] ?? Number.NaN,
    peakMiB: Math.max(...samples.map((s) => s.rssBytes)) / 2 ** 20,
    runs: samples.length,
  };
}
