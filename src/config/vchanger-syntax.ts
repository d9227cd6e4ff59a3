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

export type VchangerVersion = "0.8" | "1.0";

export interface VchangerEntry {
  /** 1-based line of the keyword. */
  line: number;
  /** The keyword as written, blanks collapsed to one space. */
  key: string;
  /** Lower case, blanks and underscores removed: how both versions' spellings meet. */
  norm: string;
  /** Leading and trailing blanks removed; undefined for `key =` with no value (1.0: reset). */
  value: string | undefined;
}

export class VchangerSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[\s_]+/g, "");
}

const KEYWORD = /^[A-Za-z][A-Za-z0-9_ \t]*$/;
const strip = (value: string) =>
  value.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, "");

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

function entry(
  line: number,
  key: string,
  value: string | undefined,
): VchangerEntry {
  const spaced = key.trim().replace(/[ \t]+/g, " ");
  if (!KEYWORD.test(spaced)) {
    throw new VchangerSyntaxError(
      line,
      `\`${spaced.slice(0, 40)}\` is not a keyword; write \`keyword = value\``,
    );
  }
  return { line, key: spaced, norm: normalizeKey(spaced), value };
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

type Kind = "nl" | "sp" | "=" | "[" | "]" | "\\" | "str" | "atom";
interface Token {
  kind: Kind;
  text: string;
  line: number;
}

function* tokens10(text: string): Generator<Token> {
  let i = 0;
  let line = 1;
  while (i < text.length) {
    let c = text.charAt(i);
    if (c === ";" || c === "#") {
      while (i < text.length && text.charAt(i) !== "\n") i++;
      continue;
    }
    if (c === "\r") {
      if (text.charAt(i + 1) !== "\n")
        throw new VchangerSyntaxError(
          line,
          "carriage return without a line feed",
        );
      c = "\n";
      i++;
    }
    if (c === "\n") {
      yield { kind: "nl", text: c, line: line++ };
      i++;
    } else if (c === "=" || c === "[" || c === "]" || c === "\\") {
      yield { kind: c, text: c, line };
      i++;
    } else if (c === " " || c === "\t") {
      const start = i;
      while (text.charAt(i) === " " || text.charAt(i) === "\t") i++;
      yield { kind: "sp", text: text.slice(start, i), line };
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length)
          throw new VchangerSyntaxError(
            startLine,
            `the quoted value has no closing ${c}`,
          );
        const d = text.charAt(i++);
        if (d === c) break;
        if (d === "\n") line++;
        if (d !== "\\") {
          value += d;
          continue;
        }
        const e = text.charAt(i++);
        if (e === "x") {
          const hex = /^[0-9A-Fa-f]{1,2}/.exec(text.slice(i, i + 2))?.[0];
          if (!hex)
            throw new VchangerSyntaxError(
              line,
              "`\\x` must be followed by hex digits",
            );
          value += String.fromCharCode(Number.parseInt(hex, 16));
          i += hex.length;
        } else {
          if (e === "\n") line++;
          value +=
            (
              { "0": "\0", r: "\r", n: "\n", t: "\t" } as Record<string, string>
            )[e] ?? e;
        }
      }
      yield { kind: "str", text: value, line: startLine };
    } else {
      const start = i;
      while (i < text.length && !`"' \t=[]\r\n\\`.includes(text.charAt(i))) i++;
      yield { kind: "atom", text: text.slice(start, i), line };
    }
  }
}

function read10(text: string): VchangerEntry[] {
  const entries: VchangerEntry[] = [];
  type State =
    | "start"
    | "key"
    | "before-value"
    | "value"
    | "continued"
    | "continued-before"
    | "section";
  let state: State = "start";
  let key = "";
  let keyLine = 0;
  let value = "";
  let section = "";
  const bad = (t: Token, what: string): never => {
    throw new VchangerSyntaxError(t.line, what);
  };
  for (const t of tokens10(text)) {
    switch (state) {
      case "start":
        if (t.kind === "atom") [state, key, keyLine] = ["key", t.text, t.line];
        else if (t.kind === "[") [state, section] = ["section", ""];
        else if (t.kind !== "nl" && t.kind !== "sp")
          bad(
            t,
            `expected \`keyword = value\`, got \`${t.text.slice(0, 40)}\``,
          );
        break;
      case "key":
        if (t.kind === "atom" || t.kind === "sp") key += t.text;
        else if (t.kind === "=") [state, value] = ["before-value", ""];
        else
          bad(
            t,
            `\`${key.trim().slice(0, 40)}\` must be followed by \`= value\``,
          );
        break;
      case "before-value":
        if (t.kind === "\\") state = "continued-before";
        else if (t.kind === "nl") {
          entries.push(entry(keyLine, key, undefined));
          state = "start";
        } else if (t.kind !== "sp") [state, value] = ["value", t.text];
        break;
      case "value":
        if (t.kind === "\\") state = "continued";
        else if (t.kind === "nl") {
          entries.push(entry(keyLine, key, strip(value)));
          state = "start";
        } else value += t.text;
        break;
      case "continued":
      case "continued-before":
        if (t.kind === "nl")
          state = state === "continued" ? "value" : "before-value";
        else if (t.kind !== "sp")
          bad(t, "`\\` continues a line only at its end");
        break;
      case "section":
        if (t.kind === "atom" || t.kind === "sp") section += t.text;
        else if (t.kind === "]") {
          const name = section.trim().toLowerCase();
          if (name !== "" && name !== "global") {
            bad(
              t,
              `vchanger has no section [${section.trim().slice(0, 40)}]; remove the line (only [global] is allowed)`,
            );
          }
          state = "start";
        } else bad(t, "a section name must end with `]` on the same line");
        break;
    }
  }
  const lastLine = text.split("\n").length;
  if (state === "before-value") entries.push(entry(keyLine, key, undefined));
  else if (state === "value") entries.push(entry(keyLine, key, strip(value)));
  else if (state === "key")
    throw new VchangerSyntaxError(
      keyLine,
      `\`${key.trim().slice(0, 40)}\` must be followed by \`= value\``,
    );
  else if (state !== "start")
    throw new VchangerSyntaxError(
      lastLine,
      "the file ends inside a continued line or a section name",
    );
  return entries;
}
