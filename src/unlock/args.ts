// Strict argument parsing for the root helpers (unlock, automap), which load no CLI framework.
// node:util parseArgs errors are paragraphs ("Unknown option 'r'. To specify a positional
// argument starting with a '-', ..."): say in one line which argument was wrong instead.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "../errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with positionals, strict, errors as one-line UsageErrors naming the argument. */
export function parseStrict<const O extends Options>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (error) {
    const known = Object.entries(options).flatMap(([name, o]) =>
      o.short ? [`--${name}`, `-${o.short}`] : [`--${name}`],
    );
    throw argumentError(command, error, args, known);
  }
}

export function argumentError(
  command: string,
  error: unknown,
  args: string[],
  known: string[],
): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const end = args.indexOf("--");
    const unknown = (end < 0 ? args : args.slice(0, end)).find(
      (arg) => arg.startsWith("-") && !known.includes(arg.split("=")[0] ?? arg),
    );
    if (unknown !== undefined)
      return new UsageError(
        `${command}: unknown option ${JSON.stringify(unknown)}; see magchanger ${command} --help`,
      );
  }
  const first = ((error as Error).message ?? String(error)).split(". ")[0];
  return new UsageError(
    `${command}: ${first}; see magchanger ${command} --help`,
  );
}
