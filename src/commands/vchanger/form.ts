// vchanger's command line, so switching is one line in bacula-sd.conf:
//   magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]
// Every vchanger command, names case-insensitive as in vchanger: Bacula's LIST, LISTALL, LOADED,
// LOAD, UNLOAD, SLOTS, TRANSFER, and vchanger's extensions LISTMAGS, CREATEVOLS and REFRESH (1.0)
// and INITMAG (0.8). As with vchanger's getopt, options may stand anywhere before `--`.
// Bacula's commands load exactly what `magchanger changer` loads; the extensions (which reach
// bconsole) are loaded only when one is asked for.
import { UsageError } from "../../errors.ts";
import { defineCommand } from "../cli.ts";
import { openChanger, type RunAsOverride } from "../context.ts";
import {
  isProtocolCommand,
  PROTOCOL_COMMANDS,
  runProtocol,
} from "../protocol.ts";
import {
  EXTENSIONS,
  type Extension,
  OPTIONS,
  type VchangerParsed,
} from "./options.ts";

export const FORM =
  "magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]";

export { EXTENSIONS } from "./options.ts";

/** The options of one extension only, and which (vchanger refuses them with any other). */
export const EXTENSION_OPTIONS = {
  label: "createvols",
  pool: "createvols",
  magnum: "initmag",
  force: "refresh",
} as const;

export const command = defineCommand({
  name: "",
  summary:
    "vchanger's command line: a drop-in for vchanger in bacula-sd.conf's Changer Command.",
  hint: `the vchanger form is: ${FORM}`,
  help: false,
  protocol: true,
  options: OPTIONS,
  positionals: [
    { name: "CONFIG" },
    { name: "COMMAND" },
    { name: "ARGS", rest: true },
  ],
  exitStatus: [],
  run: runVchangerForm,
});

export async function runVchangerForm(parsed: VchangerParsed): Promise<void> {
  const { options, spelled } = parsed;
  const [config, commandArg, ...rest] = parsed.positionals as [
    string,
    string,
    ...string[],
  ];
  const command = commandArg.trim().toLowerCase();
  const extension = (EXTENSIONS as readonly string[]).includes(command);
  if (!isProtocolCommand(command) && !extension) {
    throw new UsageError(
      `unknown changer command "${commandArg.slice(0, 40)}"; use one of ${[...PROTOCOL_COMMANDS, ...EXTENSIONS].join(", ")}`,
    );
  }
  for (const [key, allowed] of Object.entries(EXTENSION_OPTIONS)) {
    const name = spelled[key as keyof typeof EXTENSION_OPTIONS];
    if (name && command !== allowed)
      throw new UsageError(
        `${name} is an option of ${allowed.toUpperCase()} only, not of ${command.toUpperCase()}`,
      );
  }
  const runAs: RunAsOverride = { user: options.user, group: options.group };
  if (isProtocolCommand(command))
    return runProtocol(openChanger(config, runAs), command, rest);
  const { runExtension } = await import("./extensions.ts");
  return runExtension(command as Extension, {
    config,
    runAs,
    args: rest,
    parsed,
  });
}
