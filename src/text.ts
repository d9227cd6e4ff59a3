// Text that reaches a terminal, a log line or an error message from outside (file names on a
// disk, argument values, tool output) is made printable: a control character could clear the
// screen, forge a whole output line or split a one-line error.
// biome-ignore lint: control characters are exactly what this matches
// Bidirectional overrides and isolates (U+202E ...) too: they reorder what a line displays.
const CONTROL =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** text with every control character written as an escape (\n, \t, \xNN, \uNNNN). */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
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
