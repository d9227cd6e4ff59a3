// The zod schema of a whole config file, built on first use (schema.ts's getConfigSchema
// requires this module then): a call answered from the validated-config cache never loads or
// initializes zod. zod/mini rather than zod: the changer runs on every volume open and zod's
// full build costs ~20 ms of start-up where zod/mini costs ~5 ms (measured on the compiled binary).
import * as z from "zod/mini";
import {
  absolutePath,
  automapSchema,
  baculaSchema,
  legacySchema,
  luksSchema,
  magazineSchema,
  NAME_PATTERN,
  toolsSchema,
} from "./schema-sections.ts";
import { buildNotifySchema } from "./notify-schema.ts";
import { buildRotationSchema } from "./rotation-schema.ts";
import { bayIssues } from "./schema-bays.ts";

// Built on first use, not at start-up: constructing these zod/mini schemas costs ~12 ms in the
// compiled binary, and the changer hot path usually reuses a validated config (config/cache.ts).
export function buildSchemas() {
  const magazine = magazineSchema();
  const legacy = legacySchema();
  const fields = z.strictObject({
    ...topLevelKeys(),
    magazine: z.array(magazine).check(
      z.minLength(1, { error: "at least one [[magazine]] is required" }),
      z.refine((bays) => sameBay(bays) === undefined, {
        error: (issue) =>
          sameBay(issue.input as MagazineInput[]) ?? "duplicate bay",
      }),
    ),
    bacula: z.prefault(baculaSchema(), {}),
    luks: z.prefault(luksSchema(), {}),
    automap: z.prefault(automapSchema(), {}),
    tools: z.prefault(toolsSchema(), {}),
    notify: z.optional(buildNotifySchema()),
    rotation: z.optional(buildRotationSchema()),
    legacy: z.optional(legacy),
  });
  // Checked on the output, every default applied: where each bay is and what it is opened as.
  const configSchema = fields.check(
    z.superRefine((config, ctx) => {
      for (const issue of bayIssues(config))
        ctx.addIssue({ code: "custom", input: config, ...issue });
    }),
  );
  return { configSchema, magazineSchema: magazine, legacySchema: legacy };
}

/** The keys above the first table: the Storage name, paths, user and group, drives, the lock. */
function topLevelKeys() {
  return {
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
  };
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

export type Schemas = ReturnType<typeof buildSchemas>;
