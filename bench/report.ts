// Markdown tables of the benchmark, and the comparison with vchanger 1.0.3's `list` figures from
// issue 2 (measured on the same kind of machine): the target is at or below them at every size
// and at least 2x faster from 10,000 volumes up.
import type { Summary } from "./measure.ts";
import type { Row } from "./run.ts";

const COLUMNS = [
  "start-up",
  "list",
  "listall",
  "loaded",
  "load+unload",
  "slots",
];

/** vchanger's `list` median (low, high ms) at the sizes issue 2 gives. */
const VCHANGER_LIST: [volumes: number, low: number, high: number][] = [
  [10, 20, 20],
  [1000, 30, 30],
  [10_000, 100, 130],
  [150_000, 1400, 1900],
];

const ms = (n: number) => (n < 100 ? n.toFixed(1) : n.toFixed(0));

function cell(s: Summary | undefined): string {
  if (!s) return "–";
  const peak = Number.isNaN(s.peakMiB) ? "?" : s.peakMiB.toFixed(0);
  return `${ms(s.median)} (${ms(s.min)}–${ms(s.max)}) · ${peak}`;
}

export function resultTable(rows: Row[]): string {
  const head = ["volumes", "magazines", ...COLUMNS];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i < 2 ? "---:" : "---")).join("|")}|`,
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.volumes.toLocaleString("en")} | ${row.magazines} | ${COLUMNS.map((c) => cell(row.results.get(c))).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/** vchanger's list time at this size: the figures, linear between and beyond them. */
export function vchangerList(volumes: number): { low: number; high: number } {
  const points = VCHANGER_LIST;
  let i = points.findIndex(([n]) => n >= volumes);
  if (i === 0) return { low: points[0]?.[1] ?? 0, high: points[0]?.[2] ?? 0 };
  if (i < 0) i = points.length - 1;
  const [n0, l0, h0] = points[i - 1] as [number, number, number];
  const [n1, l1, h1] = points[i] as [number, number, number];
  const t = (volumes - n0) / (n1 - n0);
  return { low: l0 + t * (l1 - l0), high: h0 + t * (h1 - h0) };
}

/** The target for `list`: at or below vchanger, and half of it from 10,000 volumes up. */
export function listTarget(volumes: number): number {
  const { low } = vchangerList(volumes);
  return volumes >= 10_000 ? low / 2 : low;
}

export function comparisonTable(rows: Row[]): string {
  const lines = [
    "| volumes | magazines | list | listall | vchanger list | target | met | loaded − start-up |",
    "|---:|---:|---:|---:|---:|---:|---|---:|",
  ];
  for (const row of rows) {
    const list = row.results.get("list")?.median ?? Number.NaN;
    const listall = row.results.get("listall")?.median ?? Number.NaN;
    const loaded = row.results.get("loaded")?.median ?? Number.NaN;
    const startup = row.results.get("start-up")?.median ?? Number.NaN;
    const ref = vchangerList(row.volumes);
    const target = listTarget(row.volumes);
    const refText =
      Math.round(ref.low) === Math.round(ref.high)
        ? `~${ms(ref.low)}`
        : `${ms(ref.low)}–${ms(ref.high)}`;
    const met = Math.max(list, listall) <= target ? "yes" : "**no**";
    lines.push(
      `| ${row.volumes.toLocaleString("en")} | ${row.magazines} | ${ms(list)} | ${ms(listall)} | ${refText} | ≤ ${ms(target)} | ${met} | ${(loaded - startup).toFixed(1)} |`,
    );
  }
  return [
    "Medians in ms. vchanger 1.0.3 figures from issue 2 (100,000 scaled linearly from 1.4–1.9 s",
    "at 150,000); target: at or below vchanger, at most half of it from 10,000 volumes up;",
    "`met` requires both list and listall to be within it.",
    "",
    ...lines,
  ].join("\n");
}
