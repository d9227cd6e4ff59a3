// `magchanger config import`: a vchanger.conf rewritten as the equivalent magchanger TOML, each
// value commented with the vchanger line it came from. The TOML is read back before it is
// returned, so what is printed is proven to load as the same Config the vchanger file gives.
import { AppError, UsageError } from "../errors.ts";
import { jsonText } from "../text.ts";
import { parseConfigText, readConfigText } from "./load.ts";
import { readConfigSource } from "./read.ts";
import { type Config } from "./schema.ts";
import { parseVchangerConfig, type VchangerImport } from "./vchanger.ts";

export interface ImportResult {
  toml: string;
  config: Config;
  notes: string[];
}

export function importConfigFile(file: string): ImportResult {
  // Bounded, regular files only, UTF-8 checked; no ownership rule: import runs no tool.
  const text = readConfigSource(file, false);
  return importConfigText(text, file);
}

export function importConfigText(text: string, file: string): ImportResult {
  const loaded = readConfigText(text, file);
  if (loaded.syntax === "toml") {
    throw new UsageError(
      `${file} is already a magchanger TOML config; there is nothing to import`,
    );
  }
  const imported = parseVchangerConfig(text, file);
  const toml = renderToml(imported, file);
  const back = parseConfigText(toml, `${file} (imported TOML)`);
  const differs = Object.keys(loaded.config).find(
    (key) =>
      key !== "source" &&
      !Bun.deepEquals(
        loaded.config[key as keyof Config],
        back[key as keyof Config],
      ),
  );
  if (differs) {
    throw new AppError(
      `the TOML imported from ${file} reads back with a different ${differs}; please report this`,
    );
  }
  return { toml, config: loaded.config, notes: loaded.notes };
}

const TOP_KEYS = [
  "name",
  "work_dir",
  "log_file",
  "log_level",
  "user",
  "group",
  "drives",
];
const BACULA_KEYS = ["bconsole", "config", "pool"];
const LEGACY_KEYS = [
  "vchanger",
  "slots_per_magazine",
  "magazine_bays",
  "automount_dir",
  "bconsole_disabled",
];

type Row = string | [text: string, comment: string | undefined];

export function renderToml(imported: VchangerImport, file: string): string {
  const raw = imported.raw as Record<string, unknown> & {
    magazine: Record<string, unknown>[];
    bacula?: Record<string, unknown>;
    legacy: Record<string, unknown>;
  };
  const table = (
    values: Record<string, unknown>,
    keys: string[],
    pathOf: (key: string) => string,
  ) => tableRows(imported, values, keys, pathOf);
  const rows: Row[] = [
    `# magchanger config imported from ${file} (vchanger ${imported.version} syntax).`,
    "# Comments name the vchanger line each value came from; conf/magchanger.toml documents every key.",
    "",
    ...table(raw, TOP_KEYS, (key) => key),
  ];
  if (raw.drives === undefined && imported.version === "1.0") {
    rows.push([
      "# drives = 1",
      "vchanger 1.0 made drives on demand: one per Device of the Autochanger",
    ]);
  }
  raw.magazine.forEach((magazine, index) => {
    rows.push(
      "",
      "[[magazine]]",
      ...table(magazine, ["path", "uuid"], () => `magazine.${index}`),
    );
    if (magazine.allow_unmounted === true)
      rows.push([
        "allow_unmounted = true",
        "vchanger 1.0 used the directory whether or not a disk was mounted",
      ]);
  });
  if (raw.bacula)
    rows.push(
      "",
      "[bacula]",
      ...table(raw.bacula, BACULA_KEYS, (key) => `bacula.${key}`),
    );
  rows.push(
    "",
    "# What magchanger needs to adopt vchanger's magazines as they are (layout, slot numbering).",
    "[legacy]",
    ...table(raw.legacy, LEGACY_KEYS, (key) => `legacy.${key}`),
  );
  return alignComments(rows);
}

/** `key = value` rows of a table, each with the vchanger line it came from or why it is set. */
function tableRows(
  imported: VchangerImport,
  values: Record<string, unknown>,
  keys: string[],
  pathOf: (key: string) => string,
): Row[] {
  return keys
    .filter((key) => values[key] !== undefined)
    .map((key) => {
      const value = tomlValue(values[key]);
      const origin = imported.origins.get(pathOf(key));
      const same = origin?.value === String(values[key]);
      const written = origin?.value === "" ? '""' : origin?.value;
      const source =
        origin && (same ? origin.key : `${origin.key} = ${written}`);
      return [
        `${key} = ${value}`,
        origin
          ? `${source}, line ${origin.line}`
          : imported.derived.get(pathOf(key)),
      ];
    });
}

/** The rows as lines, comments lined up in one column (up to 48 characters in). */
function alignComments(rows: Row[]): string {
  const width = Math.min(
    48,
    Math.max(
      0,
      ...rows.map((row) =>
        typeof row === "string" || !row[1] ? 0 : row[0].length,
      ),
    ),
  );
  const lines = rows.map((row) =>
    typeof row === "string"
      ? row
      : row[1]
        ? `${row[0].padEnd(width)}  # ${row[1]}`
        : row[0],
  );
  return `${lines.join("\n")}\n`;
}

function tomlValue(value: unknown): string {
  // A JSON string is a TOML basic string; jsonText writes DEL, C1 and bidi controls as \u
  // escapes too, so the printed TOML is both valid and safe on a terminal (fd-write.ts would
  // otherwise make \xNN of them, which TOML does not know).
  if (typeof value === "string") return jsonText(value);
  if (typeof value === "number" || typeof value === "boolean")
    return String(value);
  throw new AppError(`cannot write ${typeof value} as a TOML value`);
}
