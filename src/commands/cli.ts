// One way to declare a command: its options and arguments, help text and exit status, and a
// run that turns the parsed line into the command's options struct for its plain runX(opts).
// Every entry of COMMANDS (main.ts) is a CommandDef or a GroupDef of them; execute() is the one
// place that parses, prints help (to stderr where stdout is another program's) and runs.
// Exit codes stay with the errors (errors.ts); only main.ts turns an error into one.
import { UsageError } from "../errors.ts";
import { writeText } from "../system/fd-write.ts";
import { type OptionsDef, parseCommandLine, wantsHelp } from "./cli-parse.ts";
import type { AnyCommand, CommandDef, GroupDef } from "./cli-types.ts";

export type { AnyCommand, CommandDef, GroupDef } from "./cli-types.ts";

export function defineCommand<const O extends OptionsDef>(
  def: CommandDef<O>,
): CommandDef<O> {
  return def;
}

export function defineGroup(def: GroupDef): GroupDef {
  return def;
}

export function isGroup(def: AnyCommand): def is GroupDef {
  return "subcommands" in def;
}

async function printHelp(def: AnyCommand, protocol: boolean): Promise<void> {
  const { renderHelp } = await import("./cli-help.ts");
  writeText(protocol ? 2 : 1, renderHelp(def));
}

/** Parses args against def and runs it; --help prints the command's help instead. */
export async function execute(def: AnyCommand, args: string[]): Promise<void> {
  if (isGroup(def)) return executeGroup(def, args);
  if (wantsHelp(def, args)) return printHelp(def, Boolean(def.protocol));
  try {
    await def.run(parseCommandLine(def, args));
  } catch (error) {
    throw def.mapError ? def.mapError(error) : error;
  }
}

async function executeGroup(group: GroupDef, args: string[]): Promise<void> {
  const [name, ...rest] = args;
  const sub = name === undefined ? undefined : group.subcommands[name];
  if (sub) return execute(sub, rest);
  if (name === "--help" || name === "-h" || name === "help")
    return printHelp(group, false);
  const names = Object.keys(group.subcommands);
  const list =
    names.length > 1
      ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`
      : names.join("");
  throw new UsageError(
    name === undefined
      ? `${group.name} needs a subcommand: ${list}; run \`magchanger ${group.name} --help\``
      : `${group.name}: unknown subcommand ${JSON.stringify(name.slice(0, 40))}; use ${list} (run \`magchanger ${group.name} --help\`)`,
  );
}

/** `-c CONF`, the option nearly every command takes. */
export const CONFIG_OPTION = {
  type: "string",
  short: "c",
  value: "CONF",
  description: "the changer's config file",
  required: true,
} as const;

/** `--json`: the same report for scripts. */
export const JSON_OPTION = {
  type: "boolean",
  description: "machine-readable output (JSON)",
} as const;
