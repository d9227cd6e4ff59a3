// Entry point: argv -> command. Multi-call by argv0 (autofs runs a map through a symlink), the
// subcommand form, and vchanger's positional form. Only this file turns errors into exit codes;
// it sets process.exitCode and returns so large protocol output is never cut (see PLATFORM.md).
import { isAutomapName } from "./argv0.ts";
import { AppError, UsageError } from "./errors.ts";
import { printable } from "./text.ts";
import { version } from "./version.ts";

export type CommandMain = (args: string[]) => Promise<void> | void;
type Loader = () => Promise<{ main: CommandMain }>;

/** Subcommands, loaded lazily so the protocol path pays only for what it uses. */
export const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  changer: {
    summary:
      "Bacula Changer Command: changer CONFIG COMMAND [SLOT] [ARCHIVE_DEVICE] [DRIVE]",
    load: () => import("./commands/changer.ts"),
  },
  magazine: {
    summary:
      "prepare and inspect magazines: magazine init|createvols|list|rename",
    load: () => import("./commands/magazine.ts"),
  },
  refresh: {
    summary:
      "tell Bacula what changed (update slots / label barcodes) when disks come and go",
    load: () => import("./commands/refresh.ts"),
  },
  eject: {
    summary:
      "make a disk safe to unplug: eject -c CONF [BAY|NAME] [--wait SECONDS]",
    load: () => import("./commands/eject.ts"),
  },
  status: {
    summary:
      "bays, drawer, drives, and which disk (by name) a waiting job needs: status -c CONF [--json]",
    load: () => import("./commands/status.ts"),
  },
  where: {
    summary: "which disk holds a volume: where -c CONF VOLUME [--json]",
    load: () => import("./commands/where.ts"),
  },
  unlock: {
    summary:
      "udev helper: open a LUKS disk with the key file (unlock DEVICE [NAME])",
    load: () => import("./commands/unlock.ts"),
  },
  automap: {
    summary: "autofs program map: print the map entry for KEY",
    load: () => import("./commands/automap.ts"),
  },
  setup: {
    summary: "print or write the udev rule, autofs map and Bacula stanzas",
    load: () => import("./commands/setup.ts"),
  },
  doctor: {
    summary: "check the whole chain and say how to fix what is wrong",
    load: () => import("./commands/doctor.ts"),
  },
  config: {
    summary: "config import FILE: convert a vchanger.conf to TOML",
    load: () => import("./commands/config.ts"),
  },
};

export function usage(): string {
  const lines = [
    `magchanger ${version} - a virtual tape library for Bacula on removable disks`,
    "",
    "Usage:",
    ...Object.entries(COMMANDS).map(
      ([name, c]) => `  magchanger ${name.padEnd(9)} ${c.summary}`,
    ),
    "  magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]   (vchanger form:",
    "             LIST LISTALL LOADED LOAD UNLOAD SLOTS TRANSFER LISTMAGS CREATEVOLS REFRESH INITMAG)",
    "",
    "Run `magchanger COMMAND --help` for a command's options and exit status.",
    "Exit status: 0 ok, 1 failed, 2 usage, 3 config, 4 changer busy, 5 state write failed,",
    "6 state file corrupt, 7 cannot drop privileges, 8 external tool failed, 9 state file unreadable,",
    "10 disk in use (eject: try later).",
  ];
  return `${lines.join("\n")}\n`;
}

export async function run(argv0: string, args: string[]): Promise<void> {
  if (isAutomapName(argv0)) return (await COMMANDS.automap!.load()).main(args);
  const [first, ...rest] = args;
  if (first === undefined)
    throw new UsageError("no command given; run `magchanger --help`");
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(usage());
    return;
  }
  if (first === "--version" || first === "-V") {
    process.stdout.write(`${version}\n`);
    return;
  }
  const command = COMMANDS[first];
  if (command) return (await command.load()).main(rest);
  return (await import("./commands/vchanger-form.ts")).main(args);
}

export function reportError(error: unknown): number {
  // printable(): a value quoted from argv, a config or a disk must never split the one line.
  if (error instanceof AppError) {
    process.stderr.write(`magchanger: ${printable(error.message)}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `magchanger: internal error: ${printable(message.split("\n")[0] ?? "")}\n`,
  );
  if (process.env.MAGCHANGER_DEBUG && error instanceof Error)
    process.stderr.write(`${error.stack}\n`);
  return 1;
}

if (import.meta.main) {
  try {
    await run(process.argv0, process.argv.slice(2));
  } catch (error) {
    process.exitCode = reportError(error);
  }
}
