// The one argument parser of every command, the protocol path and the root helpers included, so
// it loads nothing but errors.ts. Strict: an unknown option, a missing or empty value, a value
// given to a switch, an option given twice, a missing or extra argument are each a one-line
// UsageError naming the argument. As vchanger's getopt: options may stand anywhere before `--`,
// `-xVALUE` and `--name=VALUE` work, and `-` or `-1` are values, never options.
import { UsageError } from "../errors.ts";

export interface OptionDef {
  type: "string" | "boolean";
  /** One letter: -c. */
  short?: string;
  /** The value's name in help: `--config CONF`. */
  value?: string;
  description: string;
  required?: boolean;
  default?: string;
}

export interface PositionalDef {
  /** Upper case, as help shows it: BAY. */
  name: string;
  description?: string;
  optional?: boolean;
  /** Takes every argument left (the protocol's ignored extras). */
  rest?: boolean;
}

export type OptionsDef = Record<string, OptionDef>;

/** What parsing gives a command: each option typed by its declaration. */
export type OptionValues<O extends OptionsDef> = {
  [K in keyof O]: O[K]["type"] extends "boolean"
    ? boolean
    : O[K] extends { required: true } | { default: string }
      ? string
      : string | undefined;
};

export interface Parsed<O extends OptionsDef> {
  options: OptionValues<O>;
  positionals: string[];
  /** The spelling each option was given with (-m or --magnum), for messages. */
  spelled: Partial<Record<keyof O, string>>;
}

/** What the parser needs to know of a command. */
export interface ParseSpec {
  /** As errors name it: "magazine init"; "" names nothing (the vchanger form). */
  name: string;
  options: OptionsDef;
  positionals?: PositionalDef[];
  /** Options only before the first argument: what follows is another program's data. */
  optionsFirst?: boolean;
  /** How an error points to help; default: run `magchanger NAME --help`. */
  hint?: string;
  /** false: -h/--help is no option (the vchanger form). */
  help?: boolean;
}

export function hintOf(spec: ParseSpec): string {
  return spec.hint ?? `run \`magchanger ${spec.name} --help\``;
}

function usageError(spec: ParseSpec, what: string): UsageError {
  const where = spec.name ? `${spec.name}: ` : "";
  return new UsageError(`${where}${what}; ${hintOf(spec)}`);
}

const quoted = (arg: string) => JSON.stringify(arg.slice(0, 40));

/** An argument that is data even though it starts with "-": "-" (stdin) and "-1". */
function isValue(arg: string): boolean {
  return !arg.startsWith("-") || arg === "-" || /^-\d/.test(arg);
}

/** The arguments in option position (before `--`, and before the first value if optionsFirst). */
function optionPositions(spec: ParseSpec, args: string[]): string[] {
  const end = args.indexOf("--");
  const before = end < 0 ? args : args.slice(0, end);
  if (!spec.optionsFirst) return before;
  const first = before.findIndex(isValue);
  return first < 0 ? before : before.slice(0, first);
}

/** Whether args ask for the command's help (anywhere an option may stand). */
export function wantsHelp(spec: ParseSpec, args: string[]): boolean {
  if (spec.help === false) return false;
  return optionPositions(spec, args).some((a) => a === "--help" || a === "-h");
}

interface Found {
  key: string;
  def: OptionDef;
  spelling: string;
  inline: string | undefined;
}

function findOption(spec: ParseSpec, arg: string): Found {
  const long = /^--([^=]+)(?:=([^]*))?$/.exec(arg);
  if (long) {
    const key = long[1] as string;
    const def = spec.options[key];
    if (def) return { key, def, spelling: `--${key}`, inline: long[2] };
  } else {
    const letter = arg.slice(1, 2);
    for (const [key, def] of Object.entries(spec.options)) {
      if (def.short !== letter) continue;
      const rest = arg.slice(2);
      // -xVALUE for an option with a value; a switch never has letters after it.
      if (def.type === "boolean" && rest !== "") break;
      return { key, def, spelling: `-${letter}`, inline: rest || undefined };
    }
  }
  throw usageError(spec, `unknown option ${quoted(arg)}`);
}

export function parseCommandLine<O extends OptionsDef>(
  spec: ParseSpec & { options: O },
  args: string[],
): Parsed<O> {
  const values: Record<string, string | boolean | undefined> = {};
  const spelled: Record<string, string> = {};
  const positionals: string[] = [];
  let ended = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const data = spec.optionsFirst && positionals.length > 0;
    if (ended || data || isValue(arg)) {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      ended = true;
      continue;
    }
    const { key, def, spelling, inline } = findOption(spec, arg);
    if (spelled[key] !== undefined)
      throw usageError(spec, `${spelling} given twice`);
    spelled[key] = spelling;
    if (def.type === "boolean") {
      if (inline !== undefined)
        throw usageError(spec, `${spelling} takes no value`);
      values[key] = true;
      continue;
    }
    const value = inline ?? args[i + 1];
    if (inline === undefined) i++;
    if (value === undefined || value === "" || !isValue(value))
      throw usageError(
        spec,
        `${spelling} needs a value (${valueName(key, def)})`,
      );
    values[key] = value;
  }
  return {
    options: withDefaults(spec, values) as OptionValues<O>,
    positionals: checkPositionals(spec, positionals),
    spelled: spelled as Partial<Record<keyof O, string>>,
  };
}

export function valueName(key: string, def: OptionDef): string {
  return def.value ?? key.toUpperCase().replace(/-/g, "_");
}

function withDefaults(
  spec: ParseSpec,
  values: Record<string, string | boolean | undefined>,
): Record<string, string | boolean | undefined> {
  const out: Record<string, string | boolean | undefined> = {};
  for (const [key, def] of Object.entries(spec.options)) {
    const value = values[key] ?? (def.type === "boolean" ? false : def.default);
    if (value === undefined && def.required)
      throw usageError(
        spec,
        `missing ${def.short ? `-${def.short}` : `--${key}`} ${valueName(key, def)}`,
      );
    out[key] = value;
  }
  return out;
}

function checkPositionals(spec: ParseSpec, given: string[]): string[] {
  const declared = spec.positionals ?? [];
  const missing = declared
    .slice(given.length)
    .find((p) => !p.optional && !p.rest);
  if (missing) throw usageError(spec, `missing ${missing.name}`);
  const rest = declared.some((p) => p.rest);
  if (!rest && given.length > declared.length) {
    const extra = given.slice(declared.length);
    throw usageError(
      spec,
      `unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map(quoted).join(" ")}`,
    );
  }
  return given;
}
