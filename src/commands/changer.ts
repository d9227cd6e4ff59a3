// `magchanger changer CONFIG COMMAND [SLOT] [ARCHIVE_DEVICE] [DRIVE] [extra...]`, for
// Changer Command = "/usr/local/bin/magchanger changer %c %o %S %a %d". Options only before
// CONFIG: what follows is Bacula's, never parsed as options (a %a may start with "-").
import { UsageError } from "../errors.ts";
import { defineCommand } from "./cli.ts";
import { openChanger } from "./context.ts";
import {
  isProtocolCommand,
  PROTOCOL_COMMANDS,
  runProtocol,
} from "./protocol.ts";

export interface ChangerOptions {
  config: string;
  /** As Bacula spelled it (%o), any case. */
  command: string;
  /** SLOT, ARCHIVE_DEVICE, DRIVE and any extra Bacula passed. */
  args: string[];
}

export async function runChanger(opts: ChangerOptions): Promise<void> {
  const command = opts.command.trim().toLowerCase();
  if (!isProtocolCommand(command)) {
    throw new UsageError(
      `unknown changer command "${opts.command.slice(0, 40)}"; use one of ${PROTOCOL_COMMANDS.join(", ")}`,
    );
  }
  await runProtocol(openChanger(opts.config), command, opts.args);
}

export const command = defineCommand({
  name: "changer",
  summary:
    "Bacula's Changer Command: load, unload and list the volumes of the changer CONFIG.",
  usage: ["changer CONFIG COMMAND [SLOT] [ARCHIVE_DEVICE] [DRIVE]"],
  protocol: true,
  optionsFirst: true,
  options: {},
  positionals: [
    { name: "CONFIG", description: "the changer's config file (%c)" },
    {
      name: "COMMAND",
      description: `one of ${PROTOCOL_COMMANDS.join(", ")}, any case (%o)`,
    },
    { name: "SLOT", optional: true, description: "the slot (%S)" },
    {
      name: "ARCHIVE_DEVICE",
      optional: true,
      description:
        "the Device's Archive Device (%a), which must be this changer's drive link",
    },
    { name: "DRIVE", optional: true, description: "the drive index (%d)" },
    { name: "EXTRA", rest: true },
  ],
  description: [
    "In bacula-sd.conf:",
    '  Changer Command = "/usr/local/bin/magchanger changer %c %o %S %a %d"\n  Changer Device  = /etc/magchanger/NAME.toml',
    "COMMAND: loaded prints the slot in DRIVE (0 if empty); load puts SLOT into DRIVE; unload empties DRIVE; list prints slot:barcode per slot; listall prints drives then slots (D:/S: lines); slots prints the number of slots; transfer moves SLOT to the slot given as ARCHIVE_DEVICE (Bareos). Extra arguments are ignored. On success only protocol lines are printed on stdout; this help goes to stderr.",
  ],
  exitStatus: [
    0,
    [
      1,
      'the command failed (one line on stderr; an empty slot says "Source Element Address N is Empty")',
    ],
    2,
    3,
    4,
    5,
    6,
    7,
    9,
  ],
  run: ({ positionals: [config, commandArg, ...args] }) =>
    runChanger({
      config: config as string,
      command: commandArg as string,
      args,
    }),
});
