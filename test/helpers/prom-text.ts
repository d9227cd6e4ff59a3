// A strict reader of Prometheus's text exposition format (0.0.4), for tests of the metrics file
// when promtool is not installed (and beside it when it is): every rule node_exporter's
// textfile collector relies on is a thrown error naming the line.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  help?: string;
  type?: string;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function fail(n: number, line: string, why: string): never {
  throw new Error(`line ${n}: ${why}: ${JSON.stringify(line)}`);
}

/** An escaped string up to an unescaped quote; returns the value and the index after the quote. */
function quotedValue(
  text: string,
  start: number,
  n: number,
  line: string,
): [string, number] {
  let out = "";
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [out, i + 1];
    if (c === "\n") fail(n, line, "raw newline in a label value");
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === "\\") out += "\\";
    else if (next === '"') out += '"';
    else if (next === "n") out += "\n";
    else fail(n, line, `bad escape \\${next}`);
  }
  return fail(n, line, "unterminated label value");
}

function parseValue(text: string, n: number, line: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text))
    fail(n, line, `bad value ${text}`);
  return Number(text);
}

function parseSample(line: string, n: number): PromSample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) fail(n, line, "no sample value");
  const name = line.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) fail(n, line, `bad metric name ${name}`);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === "{") {
    i++;
    while (line[i] !== "}") {
      const eq = line.indexOf("=", i);
      if (eq < 0) fail(n, line, "label without =");
      const label = line.slice(i, eq);
      if (!LABEL_NAME.test(label) || label.startsWith("__"))
        fail(n, line, `bad label name ${label}`);
      if (label in labels) fail(n, line, `label ${label} twice`);
      if (line[eq + 1] !== '"') fail(n, line, "label value not quoted");
      const [value, after] = quotedValue(line, eq + 2, n, line);
      labels[label] = value;
      i = after;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") fail(n, line, "expected , or }");
    }
    i++;
  }
  if (line[i] !== " ") fail(n, line, "expected one space before the value");
  const [value, timestamp, ...extra] = line.slice(i + 1).split(" ");
  if (extra.length || value === undefined || value === "")
    fail(n, line, "expected VALUE [TIMESTAMP]");
  if (timestamp !== undefined && !/^-?\d+$/.test(timestamp))
    fail(n, line, "bad timestamp");
  return { name, labels, value: parseValue(value, n, line) };
}

/** Families in file order; throws on any line the format does not allow. */
export function parsePromText(text: string): PromFamily[] {
  if (text !== "" && !text.endsWith("\n"))
    throw new Error("the last line has no newline");
  const families = new Map<string, PromFamily>();
  const closed = new Set<string>();
  let current: PromFamily | undefined;
  const family = (name: string, n: number, line: string): PromFamily => {
    if (current?.name === name) return current;
    if (closed.has(name) || families.has(name))
      fail(n, line, `${name} is not grouped in one place`);
    if (current) closed.add(current.name);
    current = { name, samples: [] };
    families.set(name, current);
    return current;
  };
  const seen = new Set<string>();
  text
    .split("\n")
    .slice(0, -1)
    .forEach((line, index) => {
      const n = index + 1;
      if (line.trim() === "") return;
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (meta) {
        const [, kind, name = "", rest = ""] = meta;
        if (!METRIC_NAME.test(name)) fail(n, line, `bad metric name ${name}`);
        const f = family(name, n, line);
        if (kind === "HELP") {
          if (f.help !== undefined) fail(n, line, "second HELP");
          if (/\\[^\\n]/.test(rest.replaceAll("\\\\", "")))
            fail(n, line, "bad escape in HELP");
          f.help = rest;
        } else {
          if (f.type !== undefined) fail(n, line, "second TYPE");
          if (f.samples.length) fail(n, line, "TYPE after a sample");
          if (!TYPES.has(rest)) fail(n, line, `unknown type ${rest}`);
          f.type = rest;
        }
        return;
      }
      if (line.startsWith("#")) return;
      const sample = parseSample(line, n);
      const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
      if (seen.has(key)) fail(n, line, "duplicate sample");
      seen.add(key);
      family(sample.name, n, line).samples.push(sample);
    });
  return [...families.values()];
}
