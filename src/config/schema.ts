// The one configuration shape. TOML files and legacy vchanger.conf files both end up here.
// zod/mini rather than zod: the changer runs on every volume open and zod's full build costs
// ~20 ms of start-up where zod/mini costs ~5 ms (measured on the compiled binary).
import * as z from "zod/mini";
import { buildNotifySchema, NOTIFY_ALLOWED } from "./notify-schema.ts";

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const MAPPER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;

// Built on first use, not at start-up: constructing these zod/mini schemas costs ~12 ms in the
// compiled binary, and the changer hot path usually reuses a validated config (config/cache.ts).
function buildSchemas() {
  const absolutePath = (what: string) =>
    z.string().check(
      z.refine((value) => value.startsWith("/") && !value.includes("\0"), {
        error: `${what} must be an absolute path (starting with /)`,
      }),
    );

  const magazineSchema = z
    .strictObject({
      path: z.optional(absolutePath("magazine path")),
      uuid: z.optional(
        z.string().check(
          z.regex(/^[0-9A-Fa-f-]{4,64}$/, {
            error: "uuid must be a filesystem UUID (hex digits and -)",
          }),
        ),
      ),
      label: z.optional(
        z.string().check(
          z.regex(/^[^\s/"'`$\\]{1,64}$/, {
            error: "label must be 1..64 characters without spaces, quotes or /",
          }),
        ),
      ),
      allow_unmounted: z._default(
        z.boolean({ error: "allow_unmounted must be true or false" }),
        false,
      ),
    })
    .check(
      z.refine(
        (m) =>
          [m.path, m.uuid, m.label].filter((v) => v !== undefined).length === 1,
        {
          error: "each [[magazine]] needs exactly one of path, uuid or label",
        },
      ),
    );

  const baculaSchema = z.strictObject({
    bconsole: z._default(absolutePath("bacula.bconsole"), "/usr/sbin/bconsole"),
    config: z._default(
      absolutePath("bacula.config"),
      "/etc/bacula/bconsole.conf",
    ),
    storage: z.optional(
      z.string().check(
        z.regex(NAME_PATTERN, {
          error: "bacula.storage must be a Bacula resource name",
        }),
      ),
    ),
    pool: z.optional(
      z.string().check(
        z.regex(/^[A-Za-z0-9_.: -]{1,127}$/, {
          error: "bacula.pool must be a Bacula pool name",
        }),
      ),
    ),
    drive: z._default(z.int().check(z.minimum(0), z.maximum(63)), 0),
    timeout: z._default(
      z
        .number()
        .check(z.positive({ error: "bacula.timeout must be seconds > 0" })),
      120,
    ),
  });

  /** A device-mapper name: it becomes /dev/mapper/NAME and an argv element, so no leading '-'. */

  const luksSchema = z.strictObject({
    key_file: z._default(
      absolutePath("luks.key_file"),
      "/etc/magchanger/luks.key",
    ),
    mapper: z._default(
      z.string().check(
        z.regex(MAPPER_PATTERN, {
          error:
            "luks.mapper must be a device-mapper name: 1..64 of [A-Za-z0-9_.+-], starting with a letter or digit",
        }),
      ),
      "bacula",
    ),
    allowed_uuids: z._default(
      z.array(
        z.string().check(
          z.regex(/^[0-9A-Fa-f-]{8,64}$/, {
            error: "luks.allowed_uuids entries must be LUKS UUIDs",
          }),
        ),
      ),
      [],
    ),
  });

  const automapSchema = z.strictObject({
    key: z._default(
      z.string().check(
        z.regex(/^[A-Za-z0-9_.-]{1,64}$/, {
          error: "automap.key must be a simple name",
        }),
      ),
      "magazine",
    ),
    fstype: z._default(
      z.string().check(
        z.regex(/^[a-z0-9]{1,16}$/, {
          error:
            "automap.fstype must be a filesystem type such as ext4 or auto",
        }),
      ),
      "auto",
    ),
    options: z._default(
      z.string().check(
        z.regex(/^[A-Za-z0-9_=,.-]{0,200}$/, {
          error: "automap.options must be a comma-separated mount option list",
        }),
      ),
      "rw,nodev,nosuid,noexec,noatime",
    ),
    // What `key` mounts, first found wins: the unlocked LUKS disk, then a filesystem by label/UUID.
    luks: z._default(
      z.boolean({ error: "automap.luks must be true or false" }),
      true,
    ),
    label: z.optional(
      z.string().check(
        z.regex(/^[^\s/"'`$\\]{1,64}$/, {
          error:
            "automap.label must be 1..64 characters without spaces, quotes or /",
        }),
      ),
    ),
    uuid: z.optional(
      z.string().check(
        z.regex(/^[0-9A-Fa-f-]{4,64}$/, {
          error: "automap.uuid must be a filesystem UUID (hex digits and -)",
        }),
      ),
    ),
  });

  const toolsSchema = z.strictObject({
    blkid: z._default(absolutePath("tools.blkid"), "/usr/sbin/blkid"),
    cryptsetup: z._default(
      absolutePath("tools.cryptsetup"),
      "/usr/sbin/cryptsetup",
    ),
    dmsetup: z._default(absolutePath("tools.dmsetup"), "/usr/sbin/dmsetup"),
    umount: z._default(absolutePath("tools.umount"), "/usr/bin/umount"),
    tune2fs: z._default(absolutePath("tools.tune2fs"), "/usr/sbin/tune2fs"),
    systemctl: z._default(
      absolutePath("tools.systemctl"),
      "/usr/bin/systemctl",
    ),
  });

  // Written by `magchanger config import` from a vchanger.conf (or read from one directly): the
  // vchanger facts needed to adopt its magazines without renaming a volume or moving a slot.
  const legacySchema = z.strictObject({
    vchanger: z.enum(["0.8", "1.0"], {
      error: 'legacy.vchanger must be "0.8" or "1.0" (the magazine layout)',
    }),
    slots_per_magazine: z.optional(
      z.int({ error: "legacy.slots_per_magazine must be 1..9999" }).check(
        z.minimum(1, { error: "legacy.slots_per_magazine must be 1..9999" }),
        z.maximum(9999, {
          error: "legacy.slots_per_magazine must be 1..9999",
        }),
      ),
    ),
    magazine_bays: z.optional(
      z
        .int({ error: "legacy.magazine_bays must be 1..32" })
        .check(
          z.minimum(1, { error: "legacy.magazine_bays must be 1..32" }),
          z.maximum(32, { error: "legacy.magazine_bays must be 1..32" }),
        ),
    ),
    automount_dir: z.optional(absolutePath("legacy.automount_dir")),
    bconsole_disabled: z.optional(
      z.boolean({ error: "legacy.bconsole_disabled must be true or false" }),
    ),
  });

  const configSchema = z.strictObject({
    name: z
      .string({
        error: (issue) =>
          issue.input === undefined
            ? 'name is required: the Bacula Storage name, e.g. name = "usbchanger1"'
            : 'name must be the Bacula Storage name in quotes, e.g. name = "usbchanger1"',
      })
      .check(
        z.regex(NAME_PATTERN, {
          error:
            "name must be 1..63 letters, digits, '_', '.', '-' (it prefixes barcodes)",
        }),
      ),
    work_dir: z.optional(absolutePath("work_dir")),
    log_file: z.optional(absolutePath("log_file")),
    log_level: z._default(
      z.enum(["debug", "info", "warn", "error", "off"], {
        error: "log_level must be one of debug, info, warn, error, off",
      }),
      "info",
    ),
    user: z._default(
      z.string().check(
        z.regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}\$?$/, {
          error: "user must be a user name",
        }),
      ),
      "bacula",
    ),
    group: z._default(
      z.string().check(
        z.regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$/, {
          error: "group must be a group name",
        }),
      ),
      "tape",
    ),
    drives: z._default(
      z
        .int({ error: "drives must be a whole number" })
        .check(
          z.minimum(1, { error: "drives must be at least 1" }),
          z.maximum(64, { error: "drives must be at most 64" }),
        ),
      1,
    ),
    lock_timeout: z._default(
      z
        .number()
        .check(
          z.positive({ error: "lock_timeout must be seconds > 0" }),
          z.maximum(3600),
        ),
      60,
    ),
    magazine: z.array(magazineSchema).check(
      z.minLength(1, { error: "at least one [[magazine]] is required" }),
      z.refine((bays) => sameBay(bays) === undefined, {
        error: (issue) =>
          sameBay(issue.input as MagazineInput[]) ?? "duplicate bay",
      }),
    ),
    bacula: z.prefault(baculaSchema, {}),
    luks: z.prefault(luksSchema, {}),
    automap: z.prefault(automapSchema, {}),
    tools: z.prefault(toolsSchema, {}),
    notify: z.optional(buildNotifySchema()),
    legacy: z.optional(legacySchema),
  });
  return { configSchema, magazineSchema, legacySchema };
}

interface MagazineInput {
  path?: string | undefined;
  uuid?: string | undefined;
  label?: string | undefined;
}

/** Two [[magazine]] entries for one bay (also /bay1 and //bay1/) would scan one disk twice. */
function sameBay(bays: MagazineInput[]): string | undefined {
  const seen = new Map<string, number>();
  for (const [i, bay] of bays.entries()) {
    const key = bay.path
      ? `path ${bay.path.replace(/\/+/g, "/").replace(/(.)\/$/, "$1")}`
      : bay.uuid
        ? `uuid ${bay.uuid.toLowerCase()}`
        : `label ${bay.label}`;
    const first = seen.get(key);
    if (first !== undefined)
      return `[[magazine]] ${i + 1} names the same bay as [[magazine]] ${first + 1} (${key}); give each [[magazine]] its own bay`;
    seen.set(key, i);
  }
  return undefined;
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | undefined;

/** The zod schema of a config file (built once, on first call). */
export function getConfigSchema(): Schemas["configSchema"] {
  schemas ??= buildSchemas();
  return schemas.configSchema;
}

export type ConfigInput = z.input<Schemas["configSchema"]>;
export type MagazineConfig = z.output<Schemas["magazineSchema"]>;
export type LegacyConfig = z.output<Schemas["legacySchema"]>;

/** A validated configuration with every default applied. */
export interface Config extends Omit<
  z.output<Schemas["configSchema"]>,
  "work_dir" | "log_file"
> {
  work_dir: string;
  log_file: string;
  /** The file it was loaded from. */
  source: string;
}

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
};

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
  const allowed =
    ALLOWED[key] ?? (key.startsWith("tools.") ? ABSOLUTE : undefined);
  if (!allowed) return undefined;
  const got =
    issue.input === undefined
      ? "it is missing"
      : `got ${typeof issue.input === "string" ? JSON.stringify(issue.input).slice(0, 60) : Array.isArray(issue.input) ? "a list" : typeof issue.input === "object" ? "a table" : String(issue.input).slice(0, 60)}`;
  return `must be ${allowed}; ${got}`;
}
