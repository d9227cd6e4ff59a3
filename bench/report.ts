// Markdown tables of the benchmark: magchanger beside each peer measured in the same rounds
// (A/B ratio per round, median of those), each command's own work above bare start-up, and the
// full magchanger figures.
import { median, type Summary } from "./measure.ts";
import type { Row } from "./run.ts";

const COMMANDS = [
  "list",
  "listall",
  "loaded",
  "load+unload",
  "slots",
  "loaded as root -u/-g",
];
/** How many start-ups a command's figure holds: load+unload is two processes. */
const PROCESSES: Record<string, number> = { "load+unload": 2 };

const ms = (n: number) =>
  Number.isNaN(n) ? "?" : n < 100 ? n.toFixed(1) : n.toFixed(0);
const rss = (s: Summary | undefined) =>
  !s || Number.isNaN(s.peakMiB) ? "?" : s.peakMiB.toFixed(0);
const volumes = (row: Row) => row.volumes.toLocaleString("en");

/** Median over rounds of a's sample / b's sample in the same round. */
export function pairRatio(
  a: Summary | undefined,
  b: Summary | undefined,
  field: "ms" | "cpuMs",
): number {
  if (!a || !b) return Number.NaN;
  const n = Math.min(a.samples.length, b.samples.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++)
    ratios.push(
      (a.samples[i]?.[field] ?? Number.NaN) /
        (b.samples[i]?.[field] ?? Number.NaN),
    );
  return median(ratios);
}

/** Median over rounds of (command − processes × floor) in the same round. */
export function pairExcess(
  a: Summary | undefined,
  floor: Summary | undefined,
  processes: number,
  field: "ms" | "cpuMs",
): number {
  if (!a || !floor) return Number.NaN;
  const n = Math.min(a.samples.length, floor.samples.length);
  const excess: number[] = [];
  for (let i = 0; i < n; i++)
    excess.push(
      (a.samples[i]?.[field] ?? Number.NaN) -
        processes * (floor.samples[i]?.[field] ?? Number.NaN),
    );
  return median(excess);
}

const figure = (s: Summary | undefined) =>
  s ? `${ms(s.median)} / ${ms(s.cpu)} · ${rss(s)}` : "–";

export function sideBySideTable(rows: Row[], peers: string[]): string {
  if (!peers.length) return "No peer was measured (see the list above).";
  const head = [
    "volumes",
    "command",
    "magchanger",
    ...peers.flatMap((p) => [p, `ratio wall / CPU vs ${p}`]),
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---:" : "---")).join("|")}|`,
  ];
  const row = (label: string, cells: (string | Summary | undefined)[]) =>
    `| ${label} | ${cells.map((c) => (typeof c === "string" ? c : figure(c))).join(" | ")} |`;
  for (const r of rows) {
    for (const command of ["start-up", ...COMMANDS]) {
      const mine = r.results.get(command);
      const cells: (string | Summary | undefined)[] = [command, mine];
      for (const p of peers) {
        const theirs = r.results.get(`${p}:${command}`);
        cells.push(
          theirs,
          theirs
            ? `${pairRatio(mine, theirs, "ms").toFixed(2)} / ${pairRatio(mine, theirs, "cpuMs").toFixed(2)}`
            : "–",
        );
      }
      lines.push(row(volumes(r), cells));
    }
  }
  return [
    "Cells: median wall ms / median CPU ms (user+sys) · peak RSS MiB. Ratio: magchanger / peer,",
    "the median of the per-round ratios (both measured in the same round). start-up is",
    "`magchanger --version` against the peer's own empty start (`sh -c :`, `vchanger --version`).",
    "",
    ...lines,
  ].join("\n");
}

export function ownWorkTable(rows: Row[]): string {
  const head = [
    "volumes",
    "bun floor wall / CPU",
    "--version wall / CPU",
    ...COMMANDS.map((c) => `${c} own wall / CPU`),
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---:").join("|")}|`,
  ];
  for (const r of rows) {
    const floor = r.results.get("bun-floor");
    const version = r.results.get("start-up");
    const own = COMMANDS.map((c) => {
      const s = r.results.get(c);
      const n = PROCESSES[c] ?? 1;
      return `${pairExcess(s, version, n, "ms").toFixed(1)} / ${pairExcess(s, version, n, "cpuMs").toFixed(1)}`;
    });
    lines.push(
      `| ${volumes(r)} | ${figure(floor)} | ${figure(version)} | ${own.join(" | ")} |`,
    );
  }
  return [
    "Own work: the median over rounds of (command − processes × `magchanger --version` of the",
    "same round), wall / CPU ms; load+unload subtracts two start-ups. The floor is a trivial",
    "program compiled with build.ts's options: what the runtime costs before any of our code.",
    "",
    ...lines,
  ].join("\n");
}

function cell(s: Summary | undefined): string {
  if (!s) return "–";
  return `${ms(s.median)} (${ms(s.min)}–${ms(s.max)}) / ${ms(s.cpu)} · ${rss(s)}`;
}

export function resultTable(rows: Row[]): string {
  const columns = ["bun-floor", "start-up", ...COMMANDS];
  const head = ["volumes", "magazines", ...columns];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i < 2 ? "---:" : "---")).join("|")}|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${volumes(r)} | ${r.magazines} | ${columns.map((c) => cell(r.results.get(c))).join(" | ")} |`,
    );
  }
  return [
    "magchanger alone: median wall ms (min–max) / median CPU ms · peak RSS MiB.",
    "",
    ...lines,
  ].join("\n");
}
