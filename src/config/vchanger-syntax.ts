// The two vchanger.conf grammars, read into keyword/value entries with their line numbers.
// Written from vchanger's documented and observed behaviour (vconf.cpp of 0.8.x, inifile.cpp of
// 1.0.x), so that the files vchanger accepts read the same here; values vchanger silently
// misread (`virtual_drives = two`, an unknown log level) are errors in vchanger-map.ts instead.
// - 0.8: one `keyword = value` per line; `#` starts a comment; a value is its words joined by
//   single spaces, a word being "..." or '...' (no escapes) or a run of non-blank characters.
// - 1.0: keywords are case-insensitive with blanks ignored ("Work Dir" = "WORKDIR"); `#` and
//   `;` start a comment where a token starts; the value keeps its inner blanks; "..." and '...'
//   take C escapes and may span lines; a trailing `\` continues the line; `[global]` is allowed;
//   `key =` with nothing after it resets the key to its default.
import {
  entry,
  type VchangerEntry,
  VchangerSyntaxError,
  type VchangerVersion,
} from "./vchanger-entry.ts";
import { read10 } from "./vchanger-syntax10.ts";

export {
  normalizeKey,
  type VchangerEntry,
  VchangerSyntaxError,
  type VchangerVersion,
} from "./vchanger-entry.ts";

/** The keywords of `keyword = ...` lines, for telling the versions apart before reading. */
export function keywordLines(text: string): { line: number; key: string }[] {
  const found: { line: number; key: string }[] = [];
  text.split("\n").forEach((line, index) => {
    const match = /^\s*([A-Za-z][A-Za-z0-9_ \t]*?)\s*=/.exec(line);
    if (match?.[1]) found.push({ line: index + 1, key: match[1] });
  });
  return found;
}

export function readEntries(
  text: string,
  version: VchangerVersion,
): VchangerEntry[] {
  return version === "0.8" ? read08(text) : read10(text);
}

function read08(text: string): VchangerEntry[] {
  const entries: VchangerEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    const start = line.trimStart();
    if (start === "" || start.startsWith("#") || start.startsWith(";")) return;
    const eq = line.indexOf("=");
    if (eq < 0) {
      throw new VchangerSyntaxError(
        index + 1,
        `expected \`keyword = value\`, got \`${start.slice(0, 40)}\``,
      );
    }
    entries.push(
      entry(
        index + 1,
        line.slice(0, eq),
        words08(line.slice(eq + 1)).join(" "),
      ),
    );
  });
  return entries;
}

function words08(rest: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest.charAt(i);
    if (/\s/.test(c)) i++;
    else if (c === "#") break;
    else if (c === "=") {
      words.push("=");
      i++;
    } else if (c === '"' || c === "'") {
      const close = rest.indexOf(c, i + 1);
      const end = close < 0 ? rest.length : close;
      words.push(rest.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = i;
      while (j < rest.length && !/[\s#=]/.test(rest.charAt(j))) j++;
      words.push(rest.slice(i, j));
      i = j;
    }
  }
  return words;
}
