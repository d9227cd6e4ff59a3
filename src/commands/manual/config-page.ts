// magchanger.toml(5), made from the config schema itself: every key in the schema's order, its
// default (the schema's, or one computed from other keys), what it allows (the words config errors
// use: schema-messages.ts) and what it is for (schema-docs.ts). A key missing from either table
// fails the build, naming it, so the page never lags behind the schema.
import { allowedFor } from "../../config/schema-messages.ts";
import {
  COMPUTED_DEFAULTS,
  CONFIG_KEY_DOCS,
} from "../../config/schema-docs.ts";
import { getConfigSchema } from "../../config/schema.ts";
import {
  bold,
  italic,
  macroArg,
  pageHeader,
  roffText,
  seeAlso,
  tagged,
} from "./roff.ts";

/** One key or table of the schema, in its order. */
export interface ConfigKey {
  /** "bacula.pool", "magazine[].path"; a table: "bacula"; the array of tables: "magazine". */
  path: string;
  kind: "value" | "table" | "tables";
  /** TOML text of the default, or words for a computed one. */
  default?: string;
  required: boolean;
}

// biome-ignore lint: walking zod's internal definition tree (as config/load.ts's allowedKeysAt)
type Node = any;

function tomlValue(value: unknown): string {
  return Array.isArray(value)
    ? `[${value.map(tomlValue).join(", ")}]`
    : JSON.stringify(value);
}

/** Every key and table below node, depth first in the schema's order. */
export function configKeys(
  node: Node = getConfigSchema(),
  prefix = "",
): ConfigKey[] {
  const out: ConfigKey[] = [];
  for (const [key, child] of Object.entries(node._zod.def.shape) as [
    string,
    Node,
  ][]) {
    const path = prefix ? `${prefix}.${key}` : key;
    let inner = child;
    let required = true;
    let defaultValue: unknown;
    let hasDefault = false;
    while (inner._zod.def.innerType) {
      const def = inner._zod.def;
      if (def.type === "optional" || def.type === "prefault") required = false;
      if (def.type === "default") {
        required = false;
        hasDefault = true;
        defaultValue = def.defaultValue;
      }
      inner = def.innerType;
    }
    const def = inner._zod.def;
    const computed = COMPUTED_DEFAULTS[path];
    const shown =
      computed ?? (hasDefault ? tomlValue(defaultValue) : undefined);
    if (def.type === "object") {
      out.push({ path, kind: "table", required });
      out.push(...configKeys(inner, path));
    } else if (def.type === "array" && def.element._zod.def.type === "object") {
      out.push({ path, kind: "tables", required });
      out.push(...configKeys(def.element, `${path}[]`));
    } else
      out.push({
        path,
        kind: "value",
        required,
        ...(shown !== undefined ? { default: shown } : {}),
      });
  }
  return out;
}

/** A key's text: what it is for, what it allows, its default; throws for an undocumented key. */
function keyText(k: ConfigKey): string {
  const doc = CONFIG_KEY_DOCS[k.path];
  const allowed = allowedFor(k.path);
  const missing = [
    doc === undefined ? "CONFIG_KEY_DOCS in src/config/schema-docs.ts" : "",
    allowed === undefined ? "ALLOWED in src/config/schema-messages.ts" : "",
  ].filter(Boolean);
  if (missing.length)
    throw new Error(
      `config key ${k.path} is not documented: add it to ${missing.join(" and ")}`,
    );
  const table = k.path.includes(".") ? k.path.replace(/\..*$/, "") : "";
  const tail = k.required
    ? table
      ? `Required when [${table}] is there.`
      : "Required."
    : k.default !== undefined
      ? `Default: ${k.default}.`
      : "Default: unset.";
  return `${doc} Allowed: ${allowed}. ${tail}`;
}

function heading(k: ConfigKey): string {
  return `.SH ${macroArg(k.kind === "tables" ? `[[${k.path}]]` : `[${k.path}]`)}`;
}

export function configPage(version: string): string {
  const lines = [
    ...pageHeader("magchanger.toml", 5, version, "src/config/schema*.ts"),
    ".SH NAME",
    "magchanger.toml \\- the configuration of one magchanger changer",
    ".SH SYNOPSIS",
    italic("/etc/magchanger/NAME.toml"),
    ".SH DESCRIPTION",
    roffText(
      "One TOML file per changer. Bacula's storage daemon names it as the Changer Device of its Autochanger; udev's unlock, autofs's map and the refresh units find it in /etc/magchanger. Run as root, magchanger uses a configuration only when the file and every directory above it are root's and writable by nobody else.",
    ),
    ".PP",
    roffText(
      "An unknown key, a wrong type or a value out of range is an error naming the file and the key path and saying what is allowed (a syntax error names the line); nothing runs with a configuration that does not validate. A vchanger.conf (vchanger 0.8 or 1.0 syntax) is accepted wherever a configuration is; magchanger config import prints its TOML.",
    ),
    ".PP",
    roffText(
      "Each key below says what it is for, what it allows and its default.",
    ),
    '.SH "TOP-LEVEL KEYS"',
  ];
  for (const k of configKeys()) {
    if (k.kind !== "value") {
      lines.push(heading(k), roffText(keyTextOfTable(k)));
      continue;
    }
    const name = k.path.replace(/^.*\./, "");
    lines.push(...tagged(bold(name), keyText(k)));
  }
  lines.push(
    ".SH EXAMPLE",
    ".PP",
    ".RS 4",
    ".nf",
    ...[
      'name = "usbchanger1"',
      "drives = 2",
      "[[magazine]]",
      'path = "/mnt/usbchanger1/magazine"',
      "[bacula]",
      'pool = "usbchanger1-pool"',
    ].map(roffText),
    ".fi",
    ".RE",
    ".PP",
    roffText("The commented reference is conf/magchanger.toml in the source."),
    ".SH FILES",
    ...tagged(
      italic("/etc/magchanger/NAME.toml"),
      "the changer's configuration",
    ),
    ...tagged(
      italic("/etc/magchanger/luks.key"),
      "the LUKS key file named by luks.key_file",
    ),
    '.SH "SEE ALSO"',
    ...seeAlso([
      "magchanger(8)",
      "magchanger-setup(8)",
      "magchanger-config(8)",
      "bacula-sd(8)",
    ]),
  );
  return `${lines.join("\n")}\n`;
}

function keyTextOfTable(k: ConfigKey): string {
  const doc = CONFIG_KEY_DOCS[k.path];
  if (doc === undefined)
    throw new Error(
      `config table ${k.path} is not documented: add it to CONFIG_KEY_DOCS in src/config/schema-docs.ts`,
    );
  const allowed = allowedFor(k.path);
  const when =
    k.kind === "tables"
      ? "One or more; each takes the keys below."
      : k.required
        ? "Required."
        : "Optional.";
  return `${doc}${allowed ? ` Allowed: ${allowed}.` : ""} ${when}`;
}
