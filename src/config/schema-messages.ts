// What each config key allows, said in the words of the file: zod alone would say "Invalid input".
import { NOTIFY_ALLOWED } from "./notify-messages.ts";
import { ROTATION_ALLOWED } from "./rotation-messages.ts";

const ABSOLUTE = "an absolute path (starting with /)";
/** What each key allows, for errors zod would only call "Invalid input" (a wrong type, a bound). */
const ALLOWED: Record<string, string> = {
  name: 'the Bacula Storage name: 1..63 letters, digits, "_", ".", "-" (e.g. name = "usbchanger1")',
  work_dir: ABSOLUTE,
  log_file: ABSOLUTE,
  log_level: "one of debug, info, warn, error, off",
  user: 'a user name in quotes (e.g. user = "bacula")',
  group: 'a group name in quotes (e.g. group = "tape")',
  drives: "a whole number 1..64",
  lock_timeout: "seconds, more than 0 and at most 3600",
  magazine:
    "one or more [[magazine]] tables, each with one of path, uuid or label",
  "magazine[]": "a [[magazine]] table with one of path, uuid or label",
  "magazine[].path": ABSOLUTE,
  "magazine[].uuid": "a filesystem UUID in quotes",
  "magazine[].label": "a filesystem label in quotes",
  "magazine[].allow_unmounted": "true or false",
  "magazine[].mapper": "a device-mapper name in quotes",
  bacula: "a [bacula] table",
  "bacula.bconsole": ABSOLUTE,
  "bacula.config": ABSOLUTE,
  "bacula.storage": "a Bacula resource name in quotes",
  "bacula.pool": "a Bacula pool name in quotes",
  "bacula.drive": "a drive index 0..63",
  "bacula.timeout": "seconds, more than 0",
  luks: "a [luks] table",
  "luks.key_file": ABSOLUTE,
  "luks.mapper": "a device-mapper name in quotes",
  "luks.allowed_uuids": 'a list of LUKS UUIDs (e.g. ["0b7f..."])',
  "luks.allowed_uuids[]": "a LUKS UUID in quotes",
  automap: "an [automap] table",
  "automap.key": "a simple name in quotes",
  "automap.fstype": "a filesystem type in quotes",
  "automap.options": "a mount option list in quotes",
  "automap.luks": "true or false",
  "automap.label": "a filesystem label in quotes",
  "automap.uuid": "a filesystem UUID in quotes",
  tools: "a [tools] table",
  legacy: "a [legacy] table",
  "legacy.vchanger": '"0.8" or "1.0"',
  "legacy.slots_per_magazine": "a whole number 1..9999",
  "legacy.magazine_bays": "a whole number 1..32",
  "legacy.automount_dir": ABSOLUTE,
  "legacy.bconsole_disabled": "true or false",
  ...NOTIFY_ALLOWED,
  ...ROTATION_ALLOWED,
};

/** What the key allows ("magazine[].path", "bacula.timeout"), as errors and magchanger.toml(5) say it. */
export function allowedFor(key: string): string | undefined {
  return ALLOWED[key] ?? (key.startsWith("tools.") ? ABSOLUTE : undefined);
}

/** The zod error map for config files: every issue without its own message says what is allowed. */
export function configIssueMessage(issue: {
  path?: PropertyKey[] | undefined;
  input?: unknown;
}): string | undefined {
  const path = issue.path ?? [];
  const key = path
    .map((p) => (typeof p === "number" ? "[]" : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
  const allowed = allowedFor(key);
  if (!allowed) return undefined;
  const got =
    issue.input === undefined
      ? "it is missing"
      : `got ${typeof issue.input === "string" ? JSON.stringify(issue.input).slice(0, 60) : Array.isArray(issue.input) ? "a list" : typeof issue.input === "object" ? "a table" : String(issue.input).slice(0, 60)}`;
  return `must be ${allowed}; ${got}`;
}
