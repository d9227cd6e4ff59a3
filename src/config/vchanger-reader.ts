// Reading one vchanger keyword's value for the mapping (vchanger-map.ts): the line it came from
// is remembered for errors and notes, and a bad value fails naming its line and keyword.
import { isAbsolute } from "node:path";
import type { VchangerEntry, VchangerVersion } from "./vchanger-syntax.ts";
import type { Target } from "./vchanger-entry.ts";

/** Where a Config key came from: the vchanger line and keyword as written. */
export interface Origin {
  line: number;
  key: string;
  value: string;
}

export type Fail = (line: number | undefined, message: string) => never;

export class EntryReader {
  /** Config key path ("name", "bacula.pool", "magazine.2") -> its vchanger line. */
  readonly origins = new Map<string, Origin>();
  /** Config key path -> why a value that is not in the file was set. */
  readonly derived = new Map<string, string>();

  constructor(
    readonly version: VchangerVersion,
    private readonly set: Map<Target, VchangerEntry>,
    readonly notes: string[],
    readonly fail: Fail,
  ) {}

  at(target: Target): number | undefined {
    return this.set.get(target)?.line;
  }

  keyOf(target: Target): string | undefined {
    return this.set.get(target)?.key;
  }

  /** The value as written (remembering its line), or undefined without a line. */
  take(target: Target): string | undefined {
    const e = this.set.get(target);
    if (e?.value !== undefined)
      this.origins.set(target, { line: e.line, key: e.key, value: e.value });
    return e?.value;
  }

  nonEmpty(target: Target): string | undefined {
    const value = this.take(target);
    if (value === "")
      this.fail(
        this.at(target),
        `\`${this.keyOf(target)}\` is empty; give it a value or remove the line`,
      );
    return value;
  }

  absolute(target: Target, example: string): string | undefined {
    const value = this.nonEmpty(target);
    if (value !== undefined && !isAbsolute(value)) {
      this.fail(
        this.at(target),
        `\`${this.keyOf(target)}\` must be an absolute path, e.g. ${example}`,
      );
    }
    return value === undefined ? undefined : trimSlash(value);
  }

  count(target: Target, min: number, max: number): number | undefined {
    const value = this.nonEmpty(target);
    if (value === undefined) return undefined;
    if (
      !/^\d{1,5}$/.test(value) ||
      Number(value) < min ||
      Number(value) > max
    ) {
      this.fail(
        this.at(target),
        `\`${this.keyOf(target)}\` must be a whole number ${min}..${max}, got \`${value.slice(0, 40)}\``,
      );
    }
    return Number(value);
  }

  /** A value the file does not set: why (for `config import`'s comments) and a note. */
  byDefault(path: string, why: string, note: string): void {
    this.derived.set(path, why);
    this.notes.push(note);
  }
}

export function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;
}
