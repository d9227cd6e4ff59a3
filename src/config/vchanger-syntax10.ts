// vchanger 1.0's grammar (inifile.cpp of 1.0.x): keywords case-insensitive with blanks ignored,
// `#` and `;` comments where a token starts, values keeping their inner blanks, quoted values
// with C escapes that may span lines, a trailing `\` continuing the line, `[global]` allowed.
import {
  entry,
  strip,
  type VchangerEntry,
  VchangerSyntaxError,
} from "./vchanger-entry.ts";

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
      const quoted = readQuoted(text, i + 1, line, c);
      [i, line] = [quoted.end, quoted.line];
      yield { kind: "str", text: quoted.value, line: startLine };
    } else {
      const start = i;
      while (i < text.length && !`"' \t=[]\r\n\\`.includes(text.charAt(i))) i++;
      yield { kind: "atom", text: text.slice(start, i), line };
    }
  }
}

/** A quoted value from just after its opening quote: C escapes, \xHH, lines it spans counted. */
function readQuoted(
  text: string,
  start: number,
  startLine: number,
  quote: string,
): { value: string; end: number; line: number } {
  let i = start;
  let line = startLine;
  let value = "";
  for (;;) {
    if (i >= text.length)
      throw new VchangerSyntaxError(
        startLine,
        `the quoted value has no closing ${quote}`,
      );
    const d = text.charAt(i++);
    if (d === quote) break;
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
        ({ "0": "\0", r: "\r", n: "\n", t: "\t" } as Record<string, string>)[
          e
        ] ?? e;
    }
  }
  return { value, end: i, line };
}

type State10 =
  | "start"
  | "key"
  | "before-value"
  | "value"
  | "continued"
  | "continued-before"
  | "section";

/** Where read10 is in the file: the state, and the keyword, value or section being read. */
interface Reading10 {
  state: State10;
  key: string;
  keyLine: number;
  value: string;
  section: string;
  entries: VchangerEntry[];
}

export function read10(text: string): VchangerEntry[] {
  const r: Reading10 = {
    state: "start",
    key: "",
    keyLine: 0,
    value: "",
    section: "",
    entries: [],
  };
  for (const t of tokens10(text)) {
    if (r.state === "start" || r.state === "key") keyStep(r, t);
    else if (r.state === "section") sectionStep(r, t);
    else valueStep(r, t);
  }
  const { state, key, keyLine, value, entries } = r;
  if (state === "before-value") entries.push(entry(keyLine, key, undefined));
  else if (state === "value") entries.push(entry(keyLine, key, strip(value)));
  else if (state === "key")
    throw new VchangerSyntaxError(
      keyLine,
      `\`${key.trim().slice(0, 40)}\` must be followed by \`= value\``,
    );
  else if (state !== "start")
    throw new VchangerSyntaxError(
      text.split("\n").length,
      "the file ends inside a continued line or a section name",
    );
  return entries;
}

function bad(t: Token, what: string): never {
  throw new VchangerSyntaxError(t.line, what);
}

/** Between lines and in a keyword: a keyword up to its `=`, or a `[section]`. */
function keyStep(r: Reading10, t: Token): void {
  if (r.state === "start") {
    if (t.kind === "atom")
      [r.state, r.key, r.keyLine] = ["key", t.text, t.line];
    else if (t.kind === "[") [r.state, r.section] = ["section", ""];
    else if (t.kind !== "nl" && t.kind !== "sp")
      bad(t, `expected \`keyword = value\`, got \`${t.text.slice(0, 40)}\``);
    return;
  }
  if (t.kind === "atom" || t.kind === "sp") r.key += t.text;
  else if (t.kind === "=") [r.state, r.value] = ["before-value", ""];
  else
    bad(t, `\`${r.key.trim().slice(0, 40)}\` must be followed by \`= value\``);
}

/** After `=`: the value up to the end of the line, `\` continuing it on the next. */
function valueStep(r: Reading10, t: Token): void {
  switch (r.state) {
    case "before-value":
      if (t.kind === "\\") r.state = "continued-before";
      else if (t.kind === "nl") {
        r.entries.push(entry(r.keyLine, r.key, undefined));
        r.state = "start";
      } else if (t.kind !== "sp") [r.state, r.value] = ["value", t.text];
      break;
    case "value":
      if (t.kind === "\\") r.state = "continued";
      else if (t.kind === "nl") {
        r.entries.push(entry(r.keyLine, r.key, strip(r.value)));
        r.state = "start";
      } else r.value += t.text;
      break;
    default:
      if (t.kind === "nl")
        r.state = r.state === "continued" ? "value" : "before-value";
      else if (t.kind !== "sp") bad(t, "`\\` continues a line only at its end");
  }
}

/** Inside `[...]`: only [global] (or []) is vchanger's. */
function sectionStep(r: Reading10, t: Token): void {
  if (t.kind === "atom" || t.kind === "sp") r.section += t.text;
  else if (t.kind === "]") {
    const name = r.section.trim().toLowerCase();
    if (name !== "" && name !== "global") {
      bad(
        t,
        `vchanger has no section [${r.section.trim().slice(0, 40)}]; remove the line (only [global] is allowed)`,
      );
    }
    r.state = "start";
  } else bad(t, "a section name must end with `]` on the same line");
}
