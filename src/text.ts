// Text that reaches a terminal, a log line or an error message from outside (file names on a
// disk, argument values, tool output) is made printable: a control character could clear the
// screen, forge a whole output line or split a one-line error.
// Beyond C0 (U+0000-U+001F): DEL and C1 (U+009B is a one-byte CSI to many terminals), and the
// bidirectional marks, overrides and isolates (U+202E ...): they reorder what a line displays.
// One set for every writer: text (printable, printableLines) and JSON (jsonText).
const BEYOND_C0 =
  "\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069";
const CONTROL = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, "g");
/** The same set but the newline, which ends a line of multi-line output. */
const CONTROL_BUT_NEWLINE = new RegExp(
  `[\\u0000-\\u0009\\u000b-\\u001f${BEYOND_C0}]`,
  "g",
);
/** What JSON.stringify leaves raw of the set: it escapes U+0000-U+001F itself. */
const JSON_RAW_CONTROL = new RegExp(`[${BEYOND_C0}]`, "g");

function escapeControl(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** text with every control character written as an escape (\n, \t, \xNN, \uNNNN). */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** As printable, but each newline stays one: multi-line output keeps its lines, each made safe. */
export function printableLines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeControl);
}

/**
 * value as JSON in which every character printable() escapes is a \uNNNN escape: JSON.stringify
 * writes DEL, C1 (U+009B is a one-byte CSI) and the bidi overrides raw. Still valid JSON with
 * the same value.
 */
export function jsonText(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? "null").replace(
    JSON_RAW_CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A value quoted for a one-line message: JSON-style quotes around its printable form. */
export function quoted(text: string): string {
  return `"${printable(text).replaceAll('"', '\\"')}"`;
}

/** A byte count for people: 51.2 MiB. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The last lines of a tool's output for a one-line message: "line | line", at most 300 chars. */
export function lastLines(text: string, count = 1): string {
  return text.trim().split("\n").slice(-count).join(" | ").trim().slice(0, 300);
}
