// The section 8 pages: magchanger(8) and one magchanger-COMMAND(8) per entry of COMMANDS, made
// from the same declarations (defineCommand) that make `--help`, so the two never drift. Debian's
// order: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, FILES, SEE ALSO.
import { EXIT_MEANINGS, type ExitStatus } from "../../errors.ts";
import { type AnyCommand, type CommandDef, isGroup } from "../cli.ts";
import { synopsis } from "../cli-help.ts";
import { type OptionDef, valueName } from "../cli-parse.ts";
import { FORM } from "../vchanger/form.ts";
import { PAGE_EXTRAS, type PageExtras } from "./files.ts";
import {
  bold,
  italic,
  pageHeader,
  roffParagraphs,
  roffText,
  seeAlso,
  tagged,
} from "./roff.ts";

export type Loaders = Record<string, () => Promise<{ command: AnyCommand }>>;

/** NAME's one line: the summary's first clause (up to a colon or the end of its first sentence). */
function nameLine(summary: string): string {
  return (summary.split(/: |\. /)[0] ?? summary).replace(/\.$/, "");
}

/**
 * A synopsis line in bold words and italic values: `magchanger eject -c CONF [OPTIONS]`; what
 * follows two spaces is a remark, in roman.
 */
function synopsisLine(line: string): string {
  const [command = "", ...remark] = line.split(/\s{2,}/);
  const words = command.split(" ").map((word) => {
    const bare = word.replace(/^\[|\]$|\.\.\.\]?$/g, "");
    const styled =
      /^[A-Z][A-Z_|.]*$/.test(bare) || bare === "OPTIONS"
        ? italic(bare)
        : bold(bare);
    return word
      .replace(bare, "\u0000")
      .split("\u0000")
      .map(roffText)
      .join(styled);
  });
  return [words.join(" "), ...remark.map(roffText)].join(" ");
}

function synopsisLines(def: CommandDef): string[] {
  return synopsis(def).flatMap((line, i) => [
    ...(i > 0 ? [".br"] : []),
    line.startsWith("/")
      ? synopsisLine(line)
      : synopsisLine(`magchanger ${line}`),
  ]);
}

function optionLabel(key: string, def: OptionDef): string {
  const long = bold(`--${key}`);
  const value = def.type === "string" ? ` ${italic(valueName(key, def))}` : "";
  return def.short
    ? `${bold(`-${def.short}`)}, ${long}${value}`
    : `${long}${value}`;
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

function argumentsAndOptions(def: CommandDef, help: boolean): string[] {
  const out: string[] = [];
  for (const p of def.positionals ?? [])
    if (p.description) out.push(...tagged(italic(p.name), p.description));
  for (const [key, o] of Object.entries(def.options))
    out.push(...tagged(optionLabel(key, o), optionText(o)));
  if (help && def.help !== false)
    out.push(
      ...tagged(
        `${bold("-h")}, ${bold("--help")}`,
        "print the help (the text of this page, shorter)",
      ),
    );
  return out;
}

function exitStatus(status: ExitStatus): string[] {
  return status.flatMap((entry) => {
    const [code, text] = Array.isArray(entry)
      ? entry
      : [entry, EXIT_MEANINGS[entry] ?? "failed"];
    return tagged(bold(String(code)), text);
  });
}

function filesAndSeeAlso(extras: PageExtras, self: string): string[] {
  const files = extras.files.flatMap(([path, what]) =>
    tagged(italic(path), what),
  );
  const pages = [
    "magchanger(8)",
    "magchanger.toml(5)",
    ...extras.seeAlso,
  ].filter((p) => p !== self);
  return [
    ...(files.length ? [".SH FILES", ...files] : []),
    '.SH "SEE ALSO"',
    ...seeAlso(pages),
  ];
}

function extrasOf(name: string): PageExtras {
  const extras = PAGE_EXTRAS[name];
  if (!extras)
    throw new Error(
      `no FILES and SEE ALSO for command ${name}: add it to PAGE_EXTRAS in src/commands/manual/files.ts`,
    );
  return extras;
}

export function commandPage(
  name: string,
  def: AnyCommand,
  version: string,
): string {
  const title = `magchanger-${name}`;
  const lines = [
    ...pageHeader(title, 8, version, `src/commands/${name}.ts`),
    ".SH NAME",
    `${roffText(title)} \\- ${roffText(nameLine(def.summary))}`,
    ".SH SYNOPSIS",
  ];
  if (isGroup(def)) {
    const subs = Object.values(def.subcommands);
    subs.forEach((sub, i) =>
      lines.push(...(i ? [".br"] : []), ...synopsisLines(sub)),
    );
    lines.push(
      ".SH DESCRIPTION",
      roffText(def.summary),
      ...roffParagraphs(def.description),
    );
    for (const sub of subs)
      lines.push(
        `.SS ${roffText(`magchanger ${sub.name}`)}`,
        roffText(sub.summary),
        ...roffParagraphs(sub.description),
      );
    lines.push(".SH OPTIONS");
    for (const sub of subs)
      lines.push(
        `.SS ${roffText(sub.name)}`,
        ...argumentsAndOptions(sub, false),
      );
    lines.push(
      ".PP",
      `Each subcommand also takes ${bold("-h")}, ${bold("--help")}.`,
    );
  } else {
    lines.push(
      ...synopsisLines(def),
      ".SH DESCRIPTION",
      roffText(def.summary),
      ...roffParagraphs(def.description),
      ".SH OPTIONS",
      ...argumentsAndOptions(def, true),
    );
  }
  lines.push('.SH "EXIT STATUS"', ...exitStatus(def.exitStatus));
  lines.push(...filesAndSeeAlso(extrasOf(name), `${title}(8)`));
  return `${lines.join("\n")}\n`;
}

/** magchanger(8): what the program is, every command with its page, vchanger's form, exit codes. */
export async function overviewPage(
  commands: Loaders,
  version: string,
): Promise<string> {
  const lines = [
    ...pageHeader("magchanger", 8, version, "src/main.ts (COMMANDS)"),
    ".SH NAME",
    "magchanger \\- a virtual tape library for Bacula on removable (LUKS) disks",
    ".SH SYNOPSIS",
    synopsisLine("magchanger COMMAND [OPTIONS] [ARGUMENTS...]"),
    ".br",
    synopsisLine(FORM),
    ".br",
    synopsisLine("magchanger --version"),
    ".SH DESCRIPTION",
    roffText(
      "magchanger turns removable disks (magazines) into the slots of a virtual tape library for Bacula: it is Bacula's Changer Command, the udev helper that opens a LUKS disk, the autofs program map that mounts it, and the tools that prepare disks, tell Bacula what changed, make a disk safe to unplug and check the whole chain. One executable, usually /usr/local/bin/magchanger; each changer has its own configuration file, see magchanger.toml(5).",
    ),
    ".PP",
    roffText(
      "The second form is vchanger's command line, so a vchanger setup switches by changing only the Changer Command in bacula-sd.conf; its CONFIG may be a vchanger.conf.",
    ),
    ".SH COMMANDS",
  ];
  const seeAlsoPages: string[] = [];
  for (const [name, load] of Object.entries(commands)) {
    const { command } = await load();
    lines.push(
      ...tagged(bold(name), `${command.summary} See magchanger-${name}(8).`),
    );
    seeAlsoPages.push(`magchanger-${name}(8)`);
  }
  lines.push(
    ".SH OPTIONS",
    ...tagged(
      `${bold("-h")}, ${bold("--help")}`,
      "list the commands; COMMAND --help prints a command's options and exit status",
    ),
    ...tagged(`${bold("-V")}, ${bold("--version")}`, "print the version"),
    '.SH "EXIT STATUS"',
    ...exitStatus(Object.keys(EXIT_MEANINGS).map(Number)),
    ".PP",
    roffText(
      "Codes stay below 200: Bacula reads higher ones as a failure to run the program.",
    ),
    ".SH FILES",
    ...tagged(
      italic("/etc/magchanger/NAME.toml"),
      "one configuration file per changer; see magchanger.toml(5)",
    ),
    ...tagged(italic("/usr/local/bin/magchanger"), "the program"),
    '.SH "SEE ALSO"',
    ...seeAlso([
      "magchanger.toml(5)",
      ...seeAlsoPages,
      "bacula-sd(8)",
      "bconsole(8)",
    ]),
  );
  return `${lines.join("\n")}\n`;
}
