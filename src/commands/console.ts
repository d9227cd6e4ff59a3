// Messages for the person running a command (magazine, refresh, doctor, setup, config): consola,
// on stderr, since stdout is the product (a listing, a report, a plan, TOML; STYLE.md). Levels:
// info by default, CONSOLA_LEVEL=4 adds the debug lines, 1 keeps warnings and errors only. On a
// terminal consola's own reporter; otherwise (a pipe, a log, a test) one plain line per message,
// `magchanger: warning: ...`, made printable and capped like the log file's. Never loaded on the
// protocol path, by unlock (udev) or by automap (autofs): see test/commands/protocol-imports.
import {
  type ConsolaInstance,
  type ConsolaReporter,
  createConsola,
  type LogObject,
} from "consola";
import { formatWithOptions } from "node:util";
import { type Log, logText, tee } from "../log.ts";
import { writeText } from "../system/fd-write.ts";

const LABELS: Record<string, string> = {
  fatal: "error: ",
  error: "error: ",
  warn: "warning: ",
  info: "note: ",
  debug: "debug: ",
  trace: "debug: ",
};

/** The message of entry as one printable line, capped like the log file's. */
function messageOf(entry: LogObject): string {
  return logText(formatWithOptions({ colors: false }, ...entry.args));
}

/** One line per message, for stderr that is not a terminal. */
export const plainReporter: ConsolaReporter = {
  log(entry: LogObject): void {
    writeText(
      2,
      `magchanger: ${LABELS[entry.type] ?? ""}${messageOf(entry)}\n`,
    );
  },
};

/**
 * consola's own reporter for a terminal, handed each message already escaped: the colours and
 * icons it adds are its own, the text (names from disks, Bacula's answers) is made printable
 * first, as every other writer does (system/fd-write.ts).
 */
export function escapingReporter(inner: ConsolaReporter): ConsolaReporter {
  return {
    log: (entry, ctx) => inner.log({ ...entry, args: [messageOf(entry)] }, ctx),
  };
}

function level(env: Record<string, string | undefined>): number {
  const given = Number.parseInt(env.CONSOLA_LEVEL ?? "", 10);
  return Number.isInteger(given) ? given : 3;
}

export function createConsole(
  env: Record<string, string | undefined> = process.env,
): ConsolaInstance {
  const tty = Boolean(process.stderr.isTTY);
  const instance = createConsola({
    level: level(env),
    // stdout is the product: consola writes nothing there.
    stdout: process.stderr,
    stderr: process.stderr,
    throttle: 0,
    ...(tty ? { fancy: true } : { reporters: [plainReporter] }),
  });
  if (tty)
    instance.setReporters(instance.options.reporters.map(escapingReporter));
  return instance;
}

let shared: ConsolaInstance | undefined;
/** The console of this process. */
export function ui(): ConsolaInstance {
  shared ??= createConsole();
  return shared;
}

/** A changer log that also tells the person at the console, from level minimum up. */
export function teeToConsole(
  log: Log,
  minimum: "debug" | "info" | "warn" = "warn",
  out: ConsolaInstance = ui(),
): Log {
  return tee(log, minimum, (at, message) => out[at](message));
}
