// node:util parseArgs errors are paragraphs ("Unknown option 'r'. To specify a positional
// argument starting with a '-', ..."): say in one line which argument was wrong instead.
import { UsageError } from "../errors.ts";

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
