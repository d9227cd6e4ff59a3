// Runs a citty command without runMain (which prints usage to stdout and exits on any error):
// help goes to stdout only when asked for, argument errors become one-line UsageErrors.
import type { ArgsDef, CommandDef } from "citty";
import { UsageError } from "../errors.ts";

const ANSI = /\x1b\[[0-9;]*m/g;

export async function runCli<T extends ArgsDef>(
  command: CommandDef<T>,
  rawArgs: string[],
  exitStatus: string,
): Promise<void> {
  const { renderUsage, runCommand } = await import("citty");
  if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
    process.stdout.write(
      `${(await renderUsage(command)).replace(ANSI, "")}\n\n${exitStatus}\n`,
    );
    return;
  }
  rejectUnknownOptions(command as unknown as CommandDef<ArgsDef>, rawArgs);
  try {
    await runCommand(command, { rawArgs });
  } catch (error) {
    if (error instanceof Error && error.name === "CLIError") {
      throw new UsageError(`${error.message.replace(ANSI, "")}; see --help`);
    }
    throw error;
  }
}

function rejectUnknownOptions(
  command: CommandDef<ArgsDef>,
  rawArgs: string[],
): void {
  const args = (
    typeof command.args === "object" ? command.args : {}
  ) as ArgsDef;
  const known = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    known.add(name);
    known.add(`no-${name}`);
    const aliases =
      "alias" in def && def.alias
        ? Array.isArray(def.alias)
          ? def.alias
          : [def.alias]
        : [];
    for (const alias of aliases) known.add(alias);
  }
  for (const raw of rawArgs) {
    if (raw === "--") break;
    if (!raw.startsWith("-") || /^-\d/.test(raw)) continue;
    const name = raw.replace(/^--?/, "").split("=")[0] as string;
    if (!known.has(name))
      throw new UsageError(`unknown option ${raw}; see --help`);
  }
}
