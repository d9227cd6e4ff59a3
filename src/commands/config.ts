// `magchanger config import FILE`: print a vchanger.conf as the equivalent magchanger TOML.
import { importConfigFile } from "../config/import.ts";
import { UsageError } from "../errors.ts";
import { writeStdout } from "./context.ts";

export const HELP = `Usage: magchanger config import FILE

Reads FILE, a vchanger.conf in vchanger 0.8 or 1.0 syntax, and prints the equivalent
magchanger TOML on stdout, each value commented with the vchanger line it came from. Notes on
keys that were mapped, defaulted or kept in [legacy] go to stderr. Nothing is written:
  magchanger config import /etc/vchanger/usbchanger1.conf > /etc/magchanger/usbchanger1.toml

Every command also reads a vchanger.conf directly, so importing is optional: it is the way to
move to TOML for good. A file that parses as TOML with a \`name\` key, or ends in .toml, is
magchanger TOML; any other file is read as vchanger syntax, and errors say which was assumed.

Exit status: 0 the TOML was printed; 2 usage (no FILE, or FILE is already magchanger TOML);
3 FILE cannot be read or is not a valid vchanger.conf (one line on stderr naming the line and
the fix); 1 internal error (the TOML did not read back as the same config).
`;

const USAGE =
  "usage: magchanger config import FILE (see magchanger config --help)";

export async function main(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h") || args[0] === "help") {
    process.stdout.write(HELP);
    return;
  }
  const [command, file, ...extra] = args;
  if (command !== "import") {
    throw new UsageError(
      command === undefined
        ? USAGE
        : `unknown config command "${command.slice(0, 40)}"; ${USAGE}`,
    );
  }
  if (
    file === undefined ||
    extra.length > 0 ||
    (file.startsWith("-") && file !== "-")
  ) {
    throw new UsageError(`config import takes exactly one FILE; ${USAGE}`);
  }
  const result = importConfigFile(file === "-" ? "/dev/stdin" : file);
  for (const note of result.notes)
    process.stderr.write(`magchanger: note: ${note}\n`);
  writeStdout(result.toml);
}
