// Help text of every command, from its declaration: synopsis, summary, description, each option
// and argument, and the exit-status table. Prose is wrapped at 80 columns with hanging indents;
// no line is padded. Loaded only when help is asked for.
import { EXIT_MEANINGS, type ExitStatus } from "../errors.ts";
import type { AnyCommand, CommandDef, GroupDef } from "./cli-types.ts";
import { type OptionDef, valueName } from "./cli-parse.ts";

export const WIDTH = 80;
/** Where option descriptions start, unless every label is shorter. */
const MAX_LABEL = 24;

/** text wrapped to width, the first line after `first`, the others after `indent`. */
export function wrap(text: string, first = "", indent = first): string[] {
  const lines: string[] = [];
  let line = first;
  let fresh = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!fresh && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
      fresh = true;
    }
    line += fresh ? word : ` ${word}`;
    fresh = false;
  }
  lines.push(line);
  return lines.map((l) => l.trimEnd());
}

function paragraphs(texts: string[] | undefined): string[] {
  const out: string[] = [];
  for (const text of texts ?? []) {
    out.push(...(text.startsWith("  ") ? text.split("\n") : wrap(text)), "");
  }
  return out;
}

/** Two columns, label and text; a long label puts its text on the next line. */
function table(rows: [string, string][]): string[] {
  const width = Math.min(
    MAX_LABEL,
    Math.max(...rows.map(([label]) => label.length)),
  );
  const indent = " ".repeat(width + 4);
  return rows.flatMap(([label, text]) =>
    label.length > width
      ? [`  ${label}`, ...wrap(text, indent)]
      : wrap(text, `  ${label.padEnd(width)}  `, indent),
  );
}

function optionLabel(key: string, def: OptionDef): string {
  const long = `--${key}${def.type === "string" ? ` ${valueName(key, def)}` : ""}`;
  return def.short ? `-${def.short}, ${long}` : `    ${long}`;
}

function optionText(def: OptionDef): string {
  const notes = [
    def.required ? "required" : "",
    def.default !== undefined ? `default: ${def.default}` : "",
  ].filter(Boolean);
  return notes.length
    ? `${def.description} (${notes.join("; ")})`
    : def.description;
}

export function synopsis(def: CommandDef): string[] {
  if (def.usage) return def.usage;
  const parts = [def.name];
  for (const [key, o] of Object.entries(def.options))
    if (o.required)
      parts.push(
        `${o.short ? `-${o.short}` : `--${key}`} ${valueName(key, o)}`,
      );
  if (Object.values(def.options).some((o) => !o.required))
    parts.push("[OPTIONS]");
  for (const p of def.positionals ?? [])
    parts.push(p.rest ? `[${p.name}...]` : p.optional ? `[${p.name}]` : p.name);
  return [parts.join(" ")];
}

export function exitStatusLines(status: ExitStatus): string[] {
  const rows: [string, string][] = status.map((entry) => {
    const [code, text] = Array.isArray(entry)
      ? entry
      : [entry, EXIT_MEANINGS[entry] ?? "failed"];
    return [String(code), text];
  });
  return ["Exit status:", ...table(rows)];
}

function commandHelp(def: CommandDef, heading = true): string[] {
  const described = heading ? paragraphs(def.description) : [];
  const [first, ...more] = synopsis(def);
  const lines = [
    ...(heading ? [`Usage: magchanger ${first}`] : [`magchanger ${first}`]),
    // A line that starts with "/" is another name of the binary (the autofs map link).
    ...more.map(
      (u) =>
        `${heading ? "       " : ""}${u.startsWith("/") ? "" : "magchanger "}${u}`,
    ),
    "",
    ...wrap(def.summary),
    "",
    ...described,
  ];
  const args = (def.positionals ?? []).filter((p) => p.description);
  if (args.length) {
    lines.push("Arguments:");
    lines.push(...table(args.map((p) => [p.name, p.description as string])));
    lines.push("");
  }
  const options: [string, string][] = Object.entries(def.options).map(
    ([key, o]) => [optionLabel(key, o), optionText(o)],
  );
  if (heading && def.help !== false)
    options.push(["-h, --help", "print this help"]);
  if (options.length) lines.push("Options:", ...table(options), "");
  return lines;
}

function groupHelp(group: GroupDef): string[] {
  const names = Object.keys(group.subcommands);
  const lines = [
    `Usage: magchanger ${group.name} ${names.join("|")} ...`,
    "",
    ...wrap(group.summary),
    "",
    ...paragraphs(group.description),
  ];
  for (const sub of Object.values(group.subcommands))
    lines.push(...commandHelp(sub, false));
  lines.push(
    `Run \`magchanger ${group.name} SUBCOMMAND --help\` for one subcommand's details.`,
    "",
  );
  return [...lines, ...exitStatusLines(group.exitStatus)];
}

export function renderHelp(def: AnyCommand): string {
  const lines =
    "subcommands" in def
      ? groupHelp(def)
      : [...commandHelp(def), ...exitStatusLines(def.exitStatus)];
  return `${lines.join("\n")}\n`;
}
