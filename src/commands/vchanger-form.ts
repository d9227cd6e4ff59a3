// vchanger's command line, so switching is one line in bacula-sd.conf:
//   magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]
// Every vchanger command, names case-insensitive as in vchanger: Bacula's LIST, LISTALL, LOADED,
// LOAD, UNLOAD, SLOTS, TRANSFER, and vchanger's extensions LISTMAGS, CREATEVOLS and REFRESH (1.0)
// and INITMAG (0.8). As with vchanger's getopt, options may stand anywhere before `--`.
import { UsageError } from "../errors.ts";
import { openChanger, type RunAsOverride } from "./context.ts";
import {
  isProtocolCommand,
  PROTOCOL_COMMANDS,
  runProtocol,
} from "./protocol.ts";
import {
  createVols,
  EXTENSION_OPTIONS,
  initMag,
  isExtension,
  listMags,
  refresh,
  type VchangerOptions,
} from "./vchanger-extensions.ts";

const FORM =
  "magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]";

export interface VchangerArgs {
  runAs: RunAsOverride;
  positional: string[];
  options: VchangerOptions;
}

/** Long and short spellings -> the option's key; `true` marks options that take a value. */
const OPTIONS: Record<string, { key: string; value: boolean }> = {
  "-u": { key: "user", value: true },
  "--user": { key: "user", value: true },
  "-g": { key: "group", value: true },
  "--group": { key: "group", value: true },
  "-l": { key: "label", value: true },
  "--label": { key: "label", value: true },
  "--pool": { key: "pool", value: true },
  "-m": { key: "magnum", value: true },
  "--magnum": { key: "magnum", value: true },
  "--force": { key: "force", value: false },
};

export function parseVchangerArgs(args: string[]): VchangerArgs {
  const runAs: RunAsOverride = {};
  const positional: string[] = [];
  const options: VchangerOptions = {};
  let ended = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (ended || !arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      positional.push(arg);
      continue;
    }
    if (arg === "--") {
      ended = true;
      continue;
    }
    // --name=value, --name value, -x value, -xvalue (getopt's forms)
    const long = /^(--[a-z]+)(?:=(.*))?$/.exec(arg);
    const name = long ? (long[1] as string) : arg.slice(0, 2);
    const spec = OPTIONS[name];
    if (!spec) {
      throw new UsageError(
        `unknown option ${arg.slice(0, 40)}; the vchanger form is: ${FORM}`,
      );
    }
    let value: string | undefined;
    if (spec.value) {
      value = long ? long[2] : arg.length > 2 ? arg.slice(2) : undefined;
      value ??= args[++i];
      if (value === undefined || value === "")
        throw new UsageError(`${name} needs a value`);
    } else if ((long && long[2] !== undefined) || (!long && arg.length > 2)) {
      throw new UsageError(`${name} takes no value`);
    }
    if (spec.key === "user") runAs.user = value;
    else if (spec.key === "group") runAs.group = value;
    else if (spec.key === "force") options.force = name;
    else options[spec.key as "label" | "pool" | "magnum"] = { name, value };
  }
  return { runAs, positional, options };
}

export async function main(args: string[]): Promise<void> {
  const { runAs, positional, options } = parseVchangerArgs(args);
  const [config, commandArg, ...rest] = positional;
  if (!config || !commandArg) {
    throw new UsageError(
      `unknown command; run \`magchanger --help\` (vchanger form: ${FORM})`,
    );
  }
  const command = commandArg.trim().toLowerCase();
  if (!isProtocolCommand(command) && !isExtension(command)) {
    throw new UsageError(
      `unknown changer command "${commandArg.slice(0, 40)}"; use one of ${[...PROTOCOL_COMMANDS, "listmags", "createvols", "refresh", "initmag"].join(", ")}`,
    );
  }
  // As vchanger: an option of one command is an error with any other.
  for (const [key, allowed] of Object.entries(EXTENSION_OPTIONS)) {
    const given = options[key as keyof VchangerOptions];
    if (given && command !== allowed) {
      const name = typeof given === "string" ? given : given.name;
      throw new UsageError(
        `${name} is an option of ${allowed.toUpperCase()} only, not of ${command.toUpperCase()}`,
      );
    }
  }
  switch (command) {
    case "listmags":
      return listMags(openChanger(config, runAs));
    case "createvols":
      return createVols(config, runAs, rest, options);
    case "refresh":
      return refresh(openChanger(config, runAs), rest, options);
    case "initmag":
      return initMag(config, runAs, rest, options);
    default:
      return runProtocol(openChanger(config, runAs), command, rest);
  }
}
