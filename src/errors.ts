// One error family. Messages name the object and the next step; only main.ts turns them into
// exit codes. Bacula decodes exit codes >= 200 as exec failures, so codes stay in 1..199.
export class AppError extends Error {
  readonly exitCode: number;
  constructor(
    message: string,
    options?: { cause?: unknown; exitCode?: number },
  ) {
    super(
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** Wrong command line: exit 2. */
export class UsageError extends AppError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

/** Unreadable or invalid configuration: exit 3. */
export class ConfigError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, exitCode: 3 });
  }
}

/** Another invocation held the changer lock for longer than the bounded wait: exit 4. */
export class LockTimeoutError extends AppError {
  constructor(message: string) {
    super(message, { exitCode: 4 });
  }
}

/** A state file could not be written; the previous state is intact: exit 5. */
export class StateWriteError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, exitCode: 5 });
  }
}

/** A state file exists but cannot be parsed: exit 6. Nothing is overwritten. */
export class StateCorruptError extends AppError {
  constructor(message: string) {
    super(message, { exitCode: 6 });
  }
}

/** A state file exists but cannot be read (EACCES, EIO): exit 9. Nothing is overwritten. */
export class StateReadError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, exitCode: 9 });
  }
}

/** Privileges could not be dropped to the run-as user/group: exit 7. */
export class PrivilegeError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, exitCode: 7 });
  }
}

/** An external tool failed, was missing or timed out: exit 8. */
export class ToolError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, exitCode: 8 });
  }
}

/** The disk eject was asked for is in use (a job, or an open file); nothing was changed, try
 * later: exit 10. */
export class DiskBusyError extends AppError {
  constructor(message: string) {
    super(message, { exitCode: 10 });
  }
}

/**
 * A monitoring plugin's answer (Nagios/Icinga: `magchanger check`): main.ts prints the message on
 * stdout as it is, no `magchanger:` line on stderr, and exits with the state (1, 2 or 3).
 */
export class PluginAnswer extends AppError {
  constructor(output: string, state: number) {
    super(output, { exitCode: state });
  }
}

export function errnoCode(error: unknown): string | undefined {
  if (
    error &&
    typeof error === "object" &&
    "code" in error &&
    typeof error.code === "string"
  ) {
    return error.code;
  }
  return undefined;
}

/** What was thrown, as text: an Error's message, anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function describeErrno(error: unknown): string {
  const code = errnoCode(error);
  const text = ERRNO_TEXT[code ?? ""];
  if (code && text) return `${code} (${text})`;
  if (code) return code;
  return errorMessage(error);
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOENT: "no such file or directory",
  EEXIST: "file exists",
  EIO: "input/output error",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ENOTEMPTY: "directory not empty",
  EBUSY: "device or resource busy",
  ELOOP: "a symbolic link, not followed",
  ENOTREG: "not a regular file",
  EFBIG: "file too large to read",
  EMLINK: "a file with other hard links",
  EOWNER: "wrong owner",
  ECHANGED: "replaced while being opened",
};

/**
 * A command's exit-status table for its help: a code alone means what EXIT_MEANINGS says, a
 * pair says what that code means for this command.
 */
export type ExitStatus = (number | [number, string])[];

export const EXIT_MEANINGS: Record<number, string> = {
  0: "ok",
  1: "failed (one line on stderr says what and what to do)",
  2: "usage: a wrong command line",
  3: "config: the config file is missing, unreadable or invalid",
  4: "changer busy: the lock wait went over lock_timeout",
  5: "a state file could not be written (the previous state is intact)",
  6: "a state file is corrupt (nothing is overwritten)",
  7: "cannot switch to the run-as user or group",
  8: "an external tool failed, is missing or timed out",
  9: "a state file is unreadable (EACCES, EIO)",
  10: "busy, try later: the disk is in use (a job reads or writes one of its volumes, or a file is open on it); nothing was changed",
};
