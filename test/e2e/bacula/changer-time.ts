// What the changer cost a job: the calls the storage daemon made (from the changer log, which
// at log_level = "debug" has one "ok (N ms)" line per protocol call, the time inside the
// process) and the whole-process cost of one call as the SD pays it (start-up included),
// measured after the jobs as medians of `loaded` runs as the SD's user. Printed, never asserted:
// no timed assertions in tests.
import { existsSync, readFileSync } from "node:fs";

export interface ChangerCalls {
  /** Protocol calls by command (loaded, load, unload, list, ...). */
  byCommand: Record<string, number>;
  calls: number;
  /** Sum of the in-process times the log recorded, ms. */
  insideMs: number;
}

const OK = /\] debug: changer (\w+) .*: ok \(([\d.]+) ms\)$/;

/** The protocol calls logged from line `from` on (a line count taken before the job). */
export function changerCalls(logFile: string, from = 0): ChangerCalls {
  const result: ChangerCalls = { byCommand: {}, calls: 0, insideMs: 0 };
  for (const line of logLines(logFile).slice(from)) {
    const match = OK.exec(line);
    if (!match) continue;
    const command = match[1] as string;
    result.byCommand[command] = (result.byCommand[command] ?? 0) + 1;
    result.calls++;
    result.insideMs += Number(match[2]);
  }
  return result;
}

export function logLines(logFile: string): string[] {
  return existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n") : [];
}

export interface ProcessCost {
  wallMs: number;
  cpuMs: number;
  runs: number;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2
    ? (s[mid] as number)
    : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** Median wall and CPU (user+sys) of `runs` runs of argv as uid:gid, after one warm-up. */
export function processCost(
  argv: string[],
  ids: { uid: number; gid: number },
  runs = 11,
): ProcessCost {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const r = Bun.spawnSync(argv, { ...ids, stdout: "pipe", stderr: "pipe" });
    const ms = performance.now() - t0;
    if (i === 0) continue;
    wall.push(ms);
    const t = r.resourceUsage?.cpuTime;
    cpu.push(t ? Number(t.user + t.system) / 1000 : Number.NaN);
  }
  return { wallMs: median(wall), cpuMs: median(cpu), runs };
}

/** One line per job: its time, its changer calls, and calls × the median cost of a call. */
export function changerTimeLine(
  job: string,
  jobMs: number,
  calls: ChangerCalls,
  cost: ProcessCost | undefined,
): string {
  const counts = Object.entries(calls.byCommand)
    .map(([c, n]) => `${n} ${c}`)
    .join(", ");
  const total = cost
    ? `; calls × median call ${cost.wallMs.toFixed(0)} ms wall / ${cost.cpuMs.toFixed(0)} ms CPU = ${((calls.calls * cost.wallMs) / 1000).toFixed(1)} s wall / ${((calls.calls * cost.cpuMs) / 1000).toFixed(1)} s CPU`
    : "";
  return `${job}: job ${(jobMs / 1000).toFixed(1)} s; changer ${calls.calls} calls (${counts || "none"}), ${calls.insideMs.toFixed(0)} ms inside the processes${total}`;
}
