// `magchanger changer CONFIG COMMAND [SLOT] [ARCHIVE_DEVICE] [DRIVE] [extra...]`, for
// Changer Command = "/usr/local/bin/magchanger changer %c %o %S %a %d".
import { UsageError } from "../errors.ts";
import { openChanger } from "./context.ts";
import {
  isProtocolCommand,
  PROTOCOL_COMMANDS,
  runProtocol,
} from "./protocol.ts";

export const HELP = `Usage: magchanger changer CONFIG COMMAND [SLOT] [ARCHIVE_DEVICE] [DRIVE] [extra...]

Bacula's Changer Command. In bacula-sd.conf:
  Changer Command = "/usr/local/bin/magchanger changer %c %o %S %a %d"
  Changer Device  = /etc/magchanger/NAME.toml

COMMAND (case-insensitive): ${PROTOCOL_COMMANDS.join(", ")}.
  loaded  print the slot in DRIVE, 0 if empty     list     slot:barcode per slot
  load    put SLOT into DRIVE                     listall  drives then slots (D:/S: lines)
  unload  empty DRIVE                             slots    the number of slots
  transfer SLOT to the slot given as ARCHIVE_DEVICE (Bareos)
Extra arguments are ignored. On success only protocol lines are printed.
Exit status: 0 ok; 1 the command failed (one line on stderr; an empty slot says
"Source Element Address N is Empty"); 2 usage; 3 config; 4 changer busy (lock wait over
lock_timeout); 5 state could not be written (previous state intact); 6 state file corrupt;
7 cannot switch to the run-as user; 9 state file unreadable (EACCES, EIO).
`;

export async function main(args: string[]): Promise<void> {
  if (args[0] === "--help" || args[0] === "-h") {
    process.stdout.write(HELP);
    return;
  }
  const [config, commandArg, ...rest] = args;
  if (!config || !commandArg)
    throw new UsageError(
      "usage: magchanger changer CONFIG COMMAND [SLOT] [ARCHIVE_DEVICE] [DRIVE]",
    );
  const command = commandArg.trim().toLowerCase();
  if (!isProtocolCommand(command)) {
    throw new UsageError(
      `unknown changer command "${commandArg.slice(0, 40)}"; use one of ${PROTOCOL_COMMANDS.join(", ")}`,
    );
  }
  await runProtocol(openChanger(config), command, rest);
}
