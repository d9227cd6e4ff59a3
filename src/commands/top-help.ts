// `magchanger --help`: every command of COMMANDS with its summary, vchanger's form, and the
// exit-status table all commands share.
import { EXIT_MEANINGS } from "../errors.ts";
import { version } from "../version.ts";
import type { AnyCommand } from "./cli.ts";
import { exitStatusLines, wrap } from "./cli-help.ts";
import { EXTENSIONS, FORM } from "./vchanger/form.ts";
import { PROTOCOL_COMMANDS } from "./protocol.ts";

export async function topHelp(
  commands: Record<string, () => Promise<{ command: AnyCommand }>>,
): Promise<string> {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = [
    `magchanger ${version} - a virtual tape library for Bacula on removable disks`,
    "",
    "Usage: magchanger COMMAND [OPTIONS] [ARGUMENTS]",
    `       ${FORM}`,
    "",
    "Commands:",
  ];
  for (const [name, load] of Object.entries(commands)) {
    const { summary } = (await load()).command;
    const label = `  ${name.padEnd(width)}  `;
    lines.push(...wrap(summary, label, " ".repeat(label.length)));
  }
  const verbs = [...PROTOCOL_COMMANDS, ...EXTENSIONS].map((c) =>
    c.toUpperCase(),
  );
  lines.push(
    "",
    ...wrap(
      `The second form is vchanger's command line, so a vchanger setup switches by changing only the Changer Command: COMMAND is one of ${verbs.join(", ")} (any case).`,
    ),
    "",
    ...wrap(
      "Run `magchanger COMMAND --help` for a command's options and exit status; `magchanger --version` prints the version.",
    ),
    "",
    ...exitStatusLines(Object.keys(EXIT_MEANINGS).map(Number)),
  );
  return `${lines.join("\n")}\n`;
}
