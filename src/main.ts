// Entry point: argv -> command. Multi-call by argv0 (autofs runs a map through a symlink), the
// subcommand form, and vchanger's positional form. Only this file turns errors into exit codes;
// it sets process.exitCode and returns so large protocol output is never cut (see PLATFORM.md).
import { isAutomapName } from "./argv0.ts";
import { statSync } from "node:fs";
import { type AnyCommand, execute } from "./commands/cli.ts";
import { AppError, PluginAnswer, UsageError, errorMessage } from "./errors.ts";
import { writeText } from "./system/fd-write.ts";
import { printable } from "./text.ts";
import { version } from "./version.ts";

type Loader = () => Promise<{ command: AnyCommand }>;

/** Subcommands, loaded lazily so the protocol path pays only for what it uses. */
export const COMMANDS: Record<string, Loader> = {
  changer: () => import("./commands/changer.ts"),
  magazine: () => import("./commands/magazine.ts"),
  refresh: () => import("./commands/refresh.ts"),
  eject: () => import("./commands/eject.ts"),
  status: () => import("./commands/status.ts"),
  where: () => import("./commands/where.ts"),
  check: () => import("./commands/check.ts"),
  unlock: () => import("./commands/unlock.ts"),
  automap: () => import("./commands/automap.ts"),
  setup: () => import("./commands/setup.ts"),
  doctor: () => import("./commands/doctor.ts"),
  config: () => import("./commands/config.ts"),
};

const HELP = new Set(["--help", "-h", "help"]);

/**
 * vchanger's form starts with its options or its CONFIG: an option, an existing file, or a word
 * that reads as a config path. Any other first word is a mistyped command.
 */
function isVchangerForm(first: string): boolean {
  if (first.startsWith("-")) return true;
  if (first.includes("/") || /\.(conf|toml)$/.test(first)) return true;
  try {
    return statSync(first).isFile();
  } catch {
    return false;
  }
}

export async function run(argv0: string, args: string[]): Promise<void> {
  if (isAutomapName(argv0))
    return (await import("./commands/automap.ts")).runAsMap(argv0, args);
  const [first, ...rest] = args;
  if (first === undefined)
    throw new UsageError("no command given; run `magchanger --help`");
  if (HELP.has(first)) {
    const { topHelp } = await import("./commands/top-help.ts");
    writeText(1, await topHelp(COMMANDS));
    return;
  }
  if (first === "--version" || first === "-V") {
    writeText(1, `${version}\n`);
    return;
  }
  const load = COMMANDS[first];
  if (load) return execute((await load()).command, rest);
  if (!isVchangerForm(first))
    throw new UsageError(
      `unknown command ${JSON.stringify(first.slice(0, 40))}; run \`magchanger --help\``,
    );
  return execute((await import("./commands/vchanger/form.ts")).command, args);
}

export function reportError(error: unknown): number {
  // The plugin's answer is its whole stdout (bacula/nagios.ts), escaped by the writer as all text.
  if (error instanceof PluginAnswer) {
    writeText(1, error.message);
    return error.exitCode;
  }
  // printable(): a value quoted from argv, a config or a disk must never split the one line.
  if (error instanceof AppError) {
    writeText(2, `magchanger: ${printable(error.message)}\n`);
    return error.exitCode;
  }
  const message = errorMessage(error);
  writeText(
    2,
    `magchanger: internal error: ${printable(message.split("\n")[0] ?? "")}\n`,
  );
  if (process.env.MAGCHANGER_DEBUG && error instanceof Error)
    writeText(2, `${error.stack}\n`);
  return 1;
}

if (import.meta.main) {
  try {
    await run(process.argv0, process.argv.slice(2));
  } catch (error) {
    process.exitCode = reportError(error);
  }
}
