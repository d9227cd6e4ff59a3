// The changer log. Protocol commands must print nothing but protocol lines, so diagnostics go
// to this file. Logging is best effort: a log that cannot be written never fails a command, but
// the failure is kept so an error message can mention it. The file is never opened through a
// link (O_NOFOLLOW), and every message is made printable and capped: names from a disk must
// not forge log lines or flood the file.
import { closeSync, mkdirSync, writeSync } from "node:fs";
import { basename, dirname } from "node:path";
import { errnoCode } from "./errors.ts";
import { openOwnedDirectory } from "./state/owned-dir.ts";
import { openAppendNoFollow } from "./state/safe-create.ts";
import { writeText } from "./system/fd-write.ts";
import { lookupGroup, lookupUser } from "./system/identity.ts";
import { printable } from "./text.ts";

/** The longest message logged; the rest is cut and marked. */
export const MAX_LOG_MESSAGE = 4096;

export const LOG_LEVELS = ["debug", "info", "warn", "error", "off"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Log {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Why the log file could not be written, if it could not. */
  readonly failure: string | undefined;
  close(): void;
}

/** message as one printable log line of at most MAX_LOG_MESSAGE characters. */
export function logText(message: string): string {
  const text = printable(message);
  return text.length > MAX_LOG_MESSAGE
    ? `${text.slice(0, MAX_LOG_MESSAGE)}... (${text.length - MAX_LOG_MESSAGE} more characters cut)`
    : text;
}

export interface FileLogOptions {
  /** An fd already opened safely (unlock as root): used instead of opening file. */
  fd?: number;
  /** Why the file cannot be written, found before: nothing is written to it. */
  failure?: string;
}

export function createFileLog(
  file: string | undefined,
  level: LogLevel,
  tag: string,
  options: FileLogOptions = {},
): Log {
  const threshold = LOG_LEVELS.indexOf(level);
  let fd: number | undefined = options.fd;
  let failure: string | undefined = options.failure;
  const write = (at: LogLevel, message: string) => {
    if (!file || LOG_LEVELS.indexOf(at) < threshold || failure) return;
    try {
      if (fd === undefined) {
        mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
        fd = openAppendNoFollow(file, { mode: 0o640 });
      }
      writeSync(
        fd,
        `${new Date().toISOString()} ${tag}[${process.pid}] ${at}: ${logText(message)}\n`,
      );
    } catch (error) {
      failure = `cannot write log ${printable(file)}: ${(error as Error).message ?? error}`;
    }
  };
  return {
    debug: (m) => write("debug", m),
    info: (m) => write("info", m),
    warn: (m) => write("warn", m),
    error: (m) => write("error", m),
    get failure() {
      return failure;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** A log whose every line from minimum up is also handed to echo (a console, stderr). */
export function tee(
  log: Log,
  minimum: LogLevel,
  echo: (at: Exclude<LogLevel, "off">, message: string) => void,
): Log {
  const threshold = LOG_LEVELS.indexOf(minimum);
  const both =
    (at: Exclude<LogLevel, "off">) =>
    (message: string): void => {
      log[at](message);
      if (LOG_LEVELS.indexOf(at) >= threshold) echo(at, message);
    };
  return {
    debug: both("debug"),
    info: both("info"),
    warn: both("warn"),
    error: both("error"),
    get failure() {
      return log.failure;
    },
    close: () => log.close(),
  };
}

/** A log that also echoes to stderr, for commands run by people, udev or autofs. */
export function teeToStderr(log: Log, minimum: LogLevel = "info"): Log {
  return tee(log, minimum, (_at, message) =>
    writeText(2, `magchanger: ${logText(message)}\n`),
  );
}

export const nullLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  failure: undefined,
  close() {},
};

// Root (unlock from udev, eject) writes the changer's log in a directory the run-as user usually
// owns. That user could have planted a link there (LOGDIR/NAME.log -> /etc/ld.so.preload, or
// LOGDIR/sub -> /etc), so root never follows one: the log dir is made or accepted only through
// links root owns (state/owned-dir.ts), the file is opened O_NOFOLLOW, must be the run-as
// user's or root's with one link, and a file root creates is handed to the run-as user through
// the fd (the changer, running as that user, appends to it later). When the log cannot be
// opened safely, root says so on stderr and logs there only.

/** The part of a changer config the log needs (config/schema.ts's Config has it). */
export interface LogConfig {
  log_file: string;
  log_level: LogLevel;
  user: string;
  group: string;
}

export function openChangerLogAsRoot(config: LogConfig, tag: string): Log {
  const file = config.log_file;
  if (process.geteuid?.() !== 0 || config.log_level === "off")
    return createFileLog(file, config.log_level, tag);
  try {
    const fd = openLogAsRoot(file, config.user, config.group);
    return createFileLog(file, config.log_level, tag, { fd });
  } catch (error) {
    const why = `not writing the log ${printable(file)} as root: ${printable((error as Error).message ?? String(error))}${errnoCode(error) === "ELOOP" ? "; remove the link (only the run-as user's own file or none belongs there)" : ""}`;
    writeText(2, `magchanger: warning: ${why}\n`);
    return createFileLog(file, config.log_level, tag, { failure: why });
  }
}

function openLogAsRoot(file: string, userName: string, groupName: string) {
  const user = lookupUser(userName);
  const group = lookupGroup(groupName);
  if (!user || !group)
    throw new Error(
      `run-as user "${userName}" or group "${groupName}" does not exist`,
    );
  const owner = { uid: user.uid, gid: group.gid };
  const dir = openOwnedDirectory(dirname(file), 0o750, owner);
  const entry = dir.entry(basename(file));
  try {
    return openAppendNoFollow(entry, {
      mode: 0o640,
      owners: [user.uid, 0],
      createOwner: owner,
    });
  } catch (error) {
    if (error instanceof Error)
      error.message = error.message.replaceAll(entry, file);
    throw error;
  } finally {
    closeSync(dir.fd);
  }
}
