// A vchanger.conf keyword/value entry with its line, and the syntax error both grammars throw.

export type VchangerVersion = "0.8" | "1.0";

/** The magchanger key a vchanger keyword sets (vchanger.ts's KEYS). */
export type Target =
  | "name"
  | "work_dir"
  | "log_file"
  | "log_level"
  | "user"
  | "group"
  | "drives"
  | "bacula.bconsole"
  | "bacula.config"
  | "bacula.pool"
  | "magazine"
  | "legacy.slots_per_magazine"
  | "legacy.magazine_bays"
  | "legacy.automount_dir";

export interface VchangerEntry {
  /** 1-based line of the keyword. */
  line: number;
  /** The keyword as written, blanks collapsed to one space. */
  key: string;
  /** Lower case, blanks and underscores removed: how both versions' spellings meet. */
  norm: string;
  /** Leading and trailing blanks removed; undefined for `key =` with no value (1.0: reset). */
  value: string | undefined;
}

export class VchangerSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[\s_]+/g, "");
}

const KEYWORD = /^[A-Za-z][A-Za-z0-9_ \t]*$/;
export const strip = (value: string) =>
  value.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, "");

export function entry(
  line: number,
  key: string,
  value: string | undefined,
): VchangerEntry {
  const spaced = key.trim().replace(/[ \t]+/g, " ");
  if (!KEYWORD.test(spaced)) {
    throw new VchangerSyntaxError(
      line,
      `\`${spaced.slice(0, 40)}\` is not a keyword; write \`keyword = value\``,
    );
  }
  return { line, key: spaced, norm: normalizeKey(spaced), value };
}
