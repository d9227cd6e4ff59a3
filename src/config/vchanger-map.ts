// What each vchanger keyword means in magchanger terms, and the mapping of a file's entries to
// the raw object configSchema validates. Defaults follow vchanger where files on disk depend on
// them (work_dir: Bacula's Archive Device points into it); elsewhere magchanger's apply.
import { isAbsolute, join } from "node:path";
import type { VchangerEntry, VchangerVersion } from "./vchanger-syntax.ts";
import type { Target } from "./vchanger.ts";

/** Where a Config key came from: the vchanger line and keyword as written. */
export interface Origin {
  line: number;
  key: string;
  value: string;
}

export interface Mapped {
  raw: Record<string, unknown>;
  /** Config key path ("name", "bacula.pool", "magazine.2") -> its vchanger line. */
  origins: Map<string, Origin>;
  /** Config key path -> why a value that is not in the file was set. */
  derived: Map<string, string>;
}

export type Fail = (line: number | undefined, message: string) => never;

// syslog levels 0 (LOG_EMERG) .. 7 (LOG_DEBUG), as vchanger logs, to the nearest of ours.
const SYSLOG = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warning",
  "notice",
  "info",
  "debug",
];
const SYSLOG_TO_OURS = [
  "error",
  "error",
  "error",
  "error",
  "warn",
  "info",
  "info",
  "debug",
] as const;

/**
 * Maps the last entry of each keyword (`set`) and the magazines, in file order. Mapped,
 * defaulted and dropped keys are added to `notes`; bad values fail with their line.
 */
export function mapEntries(
  version: VchangerVersion,
  set: Map<Target, VchangerEntry>,
  magazines: VchangerEntry[],
  notes: string[],
  fail: Fail,
): Mapped {
  const raw: Record<string, unknown> = {};
  const bacula: Record<string, unknown> = {};
  const legacy: Record<string, unknown> = { vchanger: version };
  const origins = new Map<string, Origin>();
  const derived = new Map<string, string>();
  const at = (target: Target) => set.get(target)?.line;
  const keyOf = (target: Target) => set.get(target)?.key;
  const take = (target: Target): string | undefined => {
    const e = set.get(target);
    if (e?.value !== undefined)
      origins.set(target, { line: e.line, key: e.key, value: e.value });
    return e?.value;
  };
  const nonEmpty = (target: Target): string | undefined => {
    const value = take(target);
    if (value === "")
      fail(
        at(target),
        `\`${keyOf(target)}\` is empty; give it a value or remove the line`,
      );
    return value;
  };
  const absolute = (target: Target, example: string): string | undefined => {
    const value = nonEmpty(target);
    if (value !== undefined && !isAbsolute(value)) {
      fail(
        at(target),
        `\`${keyOf(target)}\` must be an absolute path, e.g. ${example}`,
      );
    }
    return value === undefined ? undefined : trimSlash(value);
  };
  const count = (
    target: Target,
    min: number,
    max: number,
  ): number | undefined => {
    const value = nonEmpty(target);
    if (value === undefined) return undefined;
    if (
      !/^\d{1,5}$/.test(value) ||
      Number(value) < min ||
      Number(value) > max
    ) {
      fail(
        at(target),
        `\`${keyOf(target)}\` must be a whole number ${min}..${max}, got \`${value.slice(0, 40)}\``,
      );
    }
    return Number(value);
  };
  const byDefault = (path: string, why: string, note: string) => {
    derived.set(path, why);
    notes.push(note);
  };

  const nameKey = version === "0.8" ? "changer_name" : "Storage Resource";
  const name = nonEmpty("name");
  if (name === undefined && version === "0.8") {
    fail(
      undefined,
      'no `changer_name` line; add changer_name = "NAME" (the Bacula Storage name of this changer)',
    );
  }
  raw.name = name ?? "vchanger";
  if (name === undefined) {
    byDefault(
      "name",
      `no ${nameKey}: vchanger 1.0's default`,
      `no \`${nameKey}\`: the changer is named "vchanger", as in vchanger 1.0`,
    );
  }

  const workDir = absolute("work_dir", `/var/spool/vchanger/${raw.name}`);
  raw.work_dir =
    workDir ??
    `${version === "0.8" ? "/var/lib/bacula" : "/var/spool/vchanger"}/${raw.name}`;
  if (workDir === undefined) {
    const why = `vchanger ${version}'s default, where its drive links are`;
    byDefault(
      "work_dir",
      `not set: ${why}`,
      `work_dir = "${raw.work_dir}": ${why}`,
    );
  }

  const logFile = take("log_file");
  if (logFile === "" && version === "1.0")
    fail(at("log_file"), "`Logfile` is empty; give a path or remove the line");
  if (logFile) {
    raw.log_file = isAbsolute(logFile)
      ? logFile
      : join(String(raw.work_dir), logFile);
    if (raw.log_file !== logFile)
      notes.push(
        `line ${at("log_file")}: relative logfile "${logFile}" is in work_dir: ${raw.log_file}`,
      );
  } else if (version === "1.0") {
    raw.log_file = `/var/log/vchanger/${raw.name}.log`;
    derived.set("log_file", "not set: vchanger 1.0's default");
  } else {
    raw.log_file = `${raw.work_dir}/magchanger.log`;
    byDefault(
      "log_file",
      "not set: vchanger 0.8 logged nowhere; magchanger logs in work_dir",
      `vchanger 0.8 logged nowhere without \`logfile\`; magchanger logs to ${raw.log_file}`,
    );
  }

  const level = nonEmpty("log_level");
  if (level !== undefined) {
    const named = /^LOG_([A-Z]+)$/i.exec(level)?.[1]?.toLowerCase() ?? "";
    const ours =
      SYSLOG_TO_OURS[
        /^[0-7]$/.test(level) ? Number(level) : SYSLOG.indexOf(named)
      ];
    if (!ours) {
      fail(
        at("log_level"),
        `\`${keyOf("log_level")}\` must be 0..7 or LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (syslog levels), got \`${level.slice(0, 40)}\``,
      );
    }
    raw.log_level = ours;
    notes.push(
      `line ${at("log_level")}: log level ${level} is log_level = "${ours}"`,
    );
  }

  for (const target of ["user", "group"] as const) {
    const value = nonEmpty(target);
    if (value !== undefined) raw[target] = value;
  }

  const drives = count("drives", 1, 64);
  if (drives !== undefined) raw.drives = drives;
  else if (version === "1.0") {
    notes.push(
      "vchanger 1.0 made drives on demand: set drives to the number of Device resources of the Autochanger (default 1)",
    );
  }

  const bconsole = take("bacula.bconsole");
  if (bconsole === "") {
    legacy.bconsole_disabled = true;
    const origin = origins.get("bacula.bconsole");
    if (origin) origins.set("legacy.bconsole_disabled", origin);
    notes.push(
      `line ${at("bacula.bconsole")}: \`bconsole = ""\` keeps magchanger from calling bconsole (legacy.bconsole_disabled)`,
    );
  } else if (bconsole === "bconsole") {
    notes.push(
      `line ${at("bacula.bconsole")}: bconsole, found on PATH by vchanger, is /usr/sbin/bconsole here (bacula.bconsole)`,
    );
  } else if (bconsole !== undefined) {
    if (!isAbsolute(bconsole))
      fail(
        at("bacula.bconsole"),
        "`bconsole` must be an absolute path, e.g. /usr/sbin/bconsole",
      );
    bacula.bconsole = bconsole;
  }
  const bconsoleConfig = take("bacula.config");
  if (bconsoleConfig === "") {
    notes.push(
      `line ${at("bacula.config")}: empty \`${keyOf("bacula.config")}\` is bconsole's own default, /etc/bacula/bconsole.conf`,
    );
  } else if (bconsoleConfig !== undefined) {
    if (!isAbsolute(bconsoleConfig)) {
      fail(
        at("bacula.config"),
        `\`${keyOf("bacula.config")}\` must be an absolute path, e.g. /etc/bacula/bconsole.conf`,
      );
    }
    bacula.config = bconsoleConfig;
  }
  const pool = nonEmpty("bacula.pool");
  if (pool !== undefined) bacula.pool = pool;
  else if (version === "1.0" && !legacy.bconsole_disabled) {
    bacula.pool = "Scratch";
    byDefault(
      "bacula.pool",
      "not set: vchanger 1.0's Default Pool",
      'bacula.pool = "Scratch": vchanger 1.0 labels the volumes it creates into its Default Pool, Scratch unless set',
    );
  }
  if (Object.keys(bacula).length > 0) raw.bacula = bacula;

  if (magazines.length === 0) {
    const key = version === "0.8" ? "magazine" : "Magazine";
    fail(
      undefined,
      `no \`${key}\` line; add ${key} = /mount/point (or ${key} = UUID:filesystem-uuid)`,
    );
  }
  raw.magazine = magazines.map((e, index) => {
    const value = e.value ?? "";
    origins.set(`magazine.${index}`, { line: e.line, key: e.key, value });
    if (value === "")
      fail(
        e.line,
        `\`${e.key}\` is empty; give a mount point or UUID:filesystem-uuid`,
      );
    if (/^uuid:/i.test(value)) return { uuid: value.slice(5).trim() };
    if (!isAbsolute(value)) {
      fail(
        e.line,
        `\`${e.key}\` must be an absolute path or UUID:filesystem-uuid, got \`${value.slice(0, 60)}\``,
      );
    }
    if (version === "0.8") return { path: trimSlash(value) };
    // vchanger 1.0 used a path magazine as a plain directory, mounted or not: so does magchanger
    // (the identity it writes still keeps drives out of an empty mount point).
    notes.push(
      `line ${e.line}: magazine ${trimSlash(value)} is a directory, used whether or not a disk is mounted there (allow_unmounted), as in vchanger 1.0; for a removable disk, Magazine = UUID:... (or [[magazine]] uuid) is safer`,
    );
    return { path: trimSlash(value), allow_unmounted: true };
  });

  if (version === "0.8") {
    legacy.slots_per_magazine =
      count("legacy.slots_per_magazine", 1, 9999) ?? 10;
    if (!origins.has("legacy.slots_per_magazine"))
      derived.set(
        "legacy.slots_per_magazine",
        "not set: vchanger 0.8's default",
      );
    const bays = count("legacy.magazine_bays", 1, 32);
    if (bays !== undefined) legacy.magazine_bays = bays;
    const automount = absolute("legacy.automount_dir", "/mnt/vchanger");
    if (automount !== undefined) legacy.automount_dir = automount;
  }
  raw.legacy = legacy;
  for (const [path, origin] of origins) {
    if (path.startsWith("legacy.") && path !== "legacy.bconsole_disabled") {
      notes.push(`line ${origin.line}: \`${origin.key}\` is kept as ${path}`);
    }
  }
  return { raw, origins, derived };
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") || "/" : path;
}
