// vchanger's command line, so switching is one line in bacula-sd.conf:
//   magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]
// Command names are case-insensitive, as in vchanger.
import { UsageError } from "../errors.ts";
import { openChanger, type RunAsOverride } from "./context.ts";
import {
  isProtocolCommand,
  PROTOCOL_COMMANDS,
  runProtocol,
} from "./protocol.ts";

export function parseVchangerArgs(args: string[]): {
  runAs: RunAsOverride;
  positional: string[];
} {
  const runAs: RunAsOverride = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const option = /^(-u|--user|-g|--group)(?:=(.*))?$/.exec(arg);
    if (option && positional.length < 2) {
      const value = option[2] ?? args[++i];
      if (value === undefined || value === "")
        throw new UsageError(`${option[1]} needs a value`);
      if (option[1] === "-u" || option[1] === "--user") runAs.user = value;
      else runAs.group = value;
    } else if (
      arg.startsWith("-") &&
      positional.length < 2 &&
      !/^-\d/.test(arg)
    ) {
      throw new UsageError(
        `unknown option ${arg}; the vchanger form is: magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]`,
      );
    } else {
      positional.push(arg);
    }
  }
  return { runAs, positional };
}

export async function main(args: string[]): Promise<void> {
  const { runAs, positional } = parseVchangerArgs(args);
  const [config, commandArg, ...rest] = positional;
  if (!config || !commandArg) {
    throw new UsageError(
      "unknown command; run `magchanger --help` (vchanger form: magchanger [-u USER] [-g GROUP] CONFIG COMMAND ...)",
    );
  }
  const command = commandArg.toLowerCase();
  if (!isProtocolCommand(command)) {
    throw new UsageError(
      `unknown changer command "${commandArg.slice(0, 40)}"; use one of ${PROTOCOL_COMMANDS.join(", ")}`,
    );
  }
  await runProtocol(openChanger(config, runAs), command, rest);
}
