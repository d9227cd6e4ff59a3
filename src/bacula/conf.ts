// Reading Bacula's own config files (bacula-sd.conf, bacula-dir.conf) for doctor: resources,
// their top-level directives and @include files. Keys compare as Bacula does: case and spaces
// ignored ("Archive Device" = "archivedevice"). `@|"command"` includes are never run.
// The storage daemon's config is its user's (Debian: bacula:bacula), so every file it names may
// be anything: each is read as a regular file only (looked at before it is opened: a FIFO never
// blocks, a tape device is never opened), capped, and as root through no link someone else
// could have planted. doctor reads them after becoming the run-as user (doctor/run.ts).
import { dirname, isAbsolute, join } from "node:path";
import { linksFollowable, readTextBounded } from "../state/safe-fs.ts";

/** Far above any Bacula config (Debian's are ~10 KB). */
export const MAX_DAEMON_CONFIG_BYTES = 4 * 1024 * 1024;

/** The text of one Bacula config file, read as described above. */
export function readDaemonConfigText(path: string): string {
  return readTextBounded(path, {
    maxBytes: MAX_DAEMON_CONFIG_BYTES,
    singleLink: false,
    followLinks: linksFollowable(path),
  });
}

export interface BaculaResource {
  /** Resource type, lower case without spaces: "device", "autochanger", "storage". */
  type: string;
  /** Directive key (normalized) -> values, in order (a key may repeat). */
  directives: Map<string, string[]>;
  /** The file it was read from. */
  file: string;
}

export const key = (text: string): string =>
  text.toLowerCase().replaceAll(/\s+/g, "");

/** The first value of a directive, unquoted. */
export function directive(r: BaculaResource, name: string): string | undefined {
  return r.directives.get(key(name))?.[0];
}

/** A list directive (`Device = a, "b"`), every occurrence, unquoted. */
export function listDirective(r: BaculaResource, name: string): string[] {
  return (r.directives.get(key(name)) ?? []).flatMap(splitList);
}

const MAX_INCLUDES = 64;

/**
 * Reads file and its @includes; throws the read error of the top file only. place maps an
 * absolute include path to where it is read (doctor --prefix reads a staged tree).
 */
export function readBaculaConf(
  file: string,
  place: (path: string) => string = (p) => p,
): BaculaResource[] {
  const seen = new Set<string>();
  const expand = (path: string, depth: number): string => {
    if (seen.has(path) || seen.size >= MAX_INCLUDES || depth > 8) return "";
    seen.add(path);
    const text = readDaemonConfigText(path);
    return text.replaceAll(
      /^[ \t]*@(?!\|)("?)([^"\n]+)\1[ \t]*$/gm,
      (_m, _q, inc: string) => {
        const target = isAbsolute(inc) ? place(inc) : join(dirname(path), inc);
        try {
          return `\n#@file ${target}\n${expand(target, depth + 1)}\n#@file ${path}\n`;
        } catch {
          return "";
        }
      },
    );
  };
  return parseBaculaConf(expand(file, 0), file);
}

/** Parses config text into its top-level resources (nested blocks such as Include are skipped). */
export function parseBaculaConf(text: string, file: string): BaculaResource[] {
  const resources: BaculaResource[] = [];
  let current: BaculaResource | undefined;
  let depth = 0;
  let source = file;
  for (const raw of statements(text)) {
    const fileMark = /^#@file (.*)$/.exec(raw);
    if (fileMark) {
      source = fileMark[1] ?? file;
      continue;
    }
    const line = raw.trim();
    if (!line) continue;
    if (line === "}") {
      depth = Math.max(0, depth - 1);
      if (depth === 0) current = undefined;
      continue;
    }
    const open = /^([A-Za-z][A-Za-z ]*?)\s*\{$/.exec(line);
    if (open) {
      depth++;
      if (depth === 1) {
        current = {
          type: key(open[1] ?? ""),
          directives: new Map(),
          file: source,
        };
        resources.push(current);
      }
      continue;
    }
    const pair = /^([A-Za-z][A-Za-z0-9 ]*?)\s*=\s*(.*)$/.exec(line);
    if (pair && current && depth === 1) {
      const k = key(pair[1] ?? "");
      const values = current.directives.get(k) ?? [];
      values.push(unquote((pair[2] ?? "").trim()));
      current.directives.set(k, values);
    }
  }
  return resources;
}

/** Splits text into statements: newlines, `;`, and braces end one; comments and quotes honoured. */
function statements(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      cur += c;
      if (c === "\\" && i + 1 < text.length) cur += text[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === "#" && text.startsWith("#@file ", i)) {
      const end = text.indexOf("\n", i);
      out.push(cur, text.slice(i, end < 0 ? undefined : end));
      cur = "";
      i = end < 0 ? text.length : end;
      continue;
    }
    if (c === "#") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end - 1;
      continue;
    }
    if (c === '"') quoted = true;
    if (c === "\n" || c === ";") {
      out.push(cur);
      cur = "";
    } else if (c === "{") {
      out.push(`${cur}{`);
      cur = "";
    } else if (c === "}") {
      out.push(cur, "}");
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unquote(value: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(value);
  return m ? (m[1] ?? "").replaceAll(/\\(.)/g, "$1") : value;
}

function splitList(value: string): string[] {
  const items: string[] = [];
  for (const m of value.matchAll(/"((?:[^"\\]|\\.)*)"|([^,\s"][^,]*)/g)) {
    const item =
      m[1] !== undefined
        ? m[1].replaceAll(/\\(.)/g, "$1")
        : (m[2] ?? "").trim();
    if (item) items.push(item);
  }
  return items;
}
