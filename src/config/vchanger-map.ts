// What each vchanger keyword means in magchanger terms, and the mapping of a file's entries to
// the raw object configSchema validates. Defaults follow vchanger where files on disk depend on
// them (work_dir: Bacula's Archive Device points into it); elsewhere magchanger's apply.
import { isAbsolute, join } from "node:path";
import type { VchangerEntry, VchangerVersion } from "./vchanger-syntax.ts";
import type { Target } from "./vchanger-entry.ts";
import {
  EntryReader,
  type Fail,
  type Origin,
  trimSlash,
} from "./vchanger-reader.ts";

export interface Mapped {
  raw: Record<string, unknown>;
  /** Config key path ("name", "bacula.pool", "magazine.2") -> its vchanger line. */
  origins: Map<string, Origin>;
  /** Config key path -> why a value that is not in the file was set. */
  derived: Map<string, string>;
}

type Raw = Record<string, unknown>;

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
  const r = new EntryReader(version, set, notes, fail);
  const raw: Raw = {};
  const legacy: Raw = { vchanger: version };
  mapName(r, raw);
  mapWorkDir(r, raw);
  mapLogFile(r, raw);
  mapLogLevel(r, raw);
  for (const target of ["user", "group"] as const) {
    const value = r.nonEmpty(target);
    if (value !== undefined) raw[target] = value;
  }
  const drives = r.count("drives", 1, 64);
  if (drives !== undefined) raw.drives = drives;
  else if (version === "1.0") {
    notes.push(
      "vchanger 1.0 made drives on demand: set drives to the number of Device resources of the Autochanger (default 1)",
    );
  }
  const bacula: Raw = {};
  mapBconsole(r, bacula, legacy);
  mapPool(r, bacula, legacy);
  if (Object.keys(bacula).length > 0) raw.bacula = bacula;
  raw.magazine = mapMagazines(r, magazines);
  if (version === "0.8") mapLegacy08(r, legacy);
  raw.legacy = legacy;
  for (const [path, origin] of r.origins) {
    if (path.startsWith("legacy.") && path !== "legacy.bconsole_disabled") {
      notes.push(`line ${origin.line}: \`${origin.key}\` is kept as ${path}`);
    }
  }
  return { raw, origins: r.origins, derived: r.derived };
}

function mapName(r: EntryReader, raw: Raw): void {
  const nameKey = r.version === "0.8" ? "changer_name" : "Storage Resource";
  const name = r.nonEmpty("name");
  if (name === undefined && r.version === "0.8") {
    r.fail(
      undefined,
      'no `changer_name` line; add changer_name = "NAME" (the Bacula Storage name of this changer)',
    );
  }
  raw.name = name ?? "vchanger";
  if (name === undefined) {
    r.byDefault(
      "name",
      `no ${nameKey}: vchanger 1.0's default`,
      `no \`${nameKey}\`: the changer is named "vchanger", as in vchanger 1.0`,
    );
  }
}

function mapWorkDir(r: EntryReader, raw: Raw): void {
  const workDir = r.absolute("work_dir", `/var/spool/vchanger/${raw.name}`);
  raw.work_dir =
    workDir ??
    `${r.version === "0.8" ? "/var/lib/bacula" : "/var/spool/vchanger"}/${raw.name}`;
  if (workDir === undefined) {
    const why = `vchanger ${r.version}'s default, where its drive links are`;
    r.byDefault(
      "work_dir",
      `not set: ${why}`,
      `work_dir = "${raw.work_dir}": ${why}`,
    );
  }
}

function mapLogFile(r: EntryReader, raw: Raw): void {
  const logFile = r.take("log_file");
  if (logFile === "" && r.version === "1.0")
    r.fail(
      r.at("log_file"),
      "`Logfile` is empty; give a path or remove the line",
    );
  if (logFile) {
    raw.log_file = isAbsolute(logFile)
      ? logFile
      : join(String(raw.work_dir), logFile);
    if (raw.log_file !== logFile)
      r.notes.push(
        `line ${r.at("log_file")}: relative logfile "${logFile}" is in work_dir: ${raw.log_file}`,
      );
  } else if (r.version === "1.0") {
    raw.log_file = `/var/log/vchanger/${raw.name}.log`;
    r.derived.set("log_file", "not set: vchanger 1.0's default");
  } else {
    raw.log_file = `${raw.work_dir}/magchanger.log`;
    r.byDefault(
      "log_file",
      "not set: vchanger 0.8 logged nowhere; magchanger logs in work_dir",
      `vchanger 0.8 logged nowhere without \`logfile\`; magchanger logs to ${raw.log_file}`,
    );
  }
}

function mapLogLevel(r: EntryReader, raw: Raw): void {
  const level = r.nonEmpty("log_level");
  if (level === undefined) return;
  const named = /^LOG_([A-Z]+)$/i.exec(level)?.[1]?.toLowerCase() ?? "";
  const ours =
    SYSLOG_TO_OURS[
      /^[0-7]$/.test(level) ? Number(level) : SYSLOG.indexOf(named)
    ];
  if (!ours) {
    r.fail(
      r.at("log_level"),
      `\`${r.keyOf("log_level")}\` must be 0..7 or LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (syslog levels), got \`${level.slice(0, 40)}\``,
    );
  }
  raw.log_level = ours;
  r.notes.push(
    `line ${r.at("log_level")}: log level ${level} is log_level = "${ours}"`,
  );
}

function mapBconsole(r: EntryReader, bacula: Raw, legacy: Raw): void {
  const bconsole = r.take("bacula.bconsole");
  if (bconsole === "") {
    legacy.bconsole_disabled = true;
    const origin = r.origins.get("bacula.bconsole");
    if (origin) r.origins.set("legacy.bconsole_disabled", origin);
    r.notes.push(
      `line ${r.at("bacula.bconsole")}: \`bconsole = ""\` keeps magchanger from calling bconsole (legacy.bconsole_disabled)`,
    );
  } else if (bconsole === "bconsole") {
    r.notes.push(
      `line ${r.at("bacula.bconsole")}: bconsole, found on PATH by vchanger, is /usr/sbin/bconsole here (bacula.bconsole)`,
    );
  } else if (bconsole !== undefined) {
    if (!isAbsolute(bconsole))
      r.fail(
        r.at("bacula.bconsole"),
        "`bconsole` must be an absolute path, e.g. /usr/sbin/bconsole",
      );
    bacula.bconsole = bconsole;
  }
  const bconsoleConfig = r.take("bacula.config");
  if (bconsoleConfig === "") {
    r.notes.push(
      `line ${r.at("bacula.config")}: empty \`${r.keyOf("bacula.config")}\` is bconsole's own default, /etc/bacula/bconsole.conf`,
    );
  } else if (bconsoleConfig !== undefined) {
    if (!isAbsolute(bconsoleConfig)) {
      r.fail(
        r.at("bacula.config"),
        `\`${r.keyOf("bacula.config")}\` must be an absolute path, e.g. /etc/bacula/bconsole.conf`,
      );
    }
    bacula.config = bconsoleConfig;
  }
}

function mapPool(r: EntryReader, bacula: Raw, legacy: Raw): void {
  const pool = r.nonEmpty("bacula.pool");
  if (pool !== undefined) bacula.pool = pool;
  else if (r.version === "1.0" && !legacy.bconsole_disabled) {
    bacula.pool = "Scratch";
    r.byDefault(
      "bacula.pool",
      "not set: vchanger 1.0's Default Pool",
      'bacula.pool = "Scratch": vchanger 1.0 labels the volumes it creates into its Default Pool, Scratch unless set',
    );
  }
}

function mapMagazines(r: EntryReader, magazines: VchangerEntry[]): Raw[] {
  if (magazines.length === 0) {
    const key = r.version === "0.8" ? "magazine" : "Magazine";
    r.fail(
      undefined,
      `no \`${key}\` line; add ${key} = /mount/point (or ${key} = UUID:filesystem-uuid)`,
    );
  }
  return magazines.map((e, index) => {
    const value = e.value ?? "";
    r.origins.set(`magazine.${index}`, { line: e.line, key: e.key, value });
    if (value === "")
      r.fail(
        e.line,
        `\`${e.key}\` is empty; give a mount point or UUID:filesystem-uuid`,
      );
    if (/^uuid:/i.test(value)) return { uuid: value.slice(5).trim() };
    if (!isAbsolute(value)) {
      r.fail(
        e.line,
        `\`${e.key}\` must be an absolute path or UUID:filesystem-uuid, got \`${value.slice(0, 60)}\``,
      );
    }
    if (r.version === "0.8") return { path: trimSlash(value) };
    // vchanger 1.0 used a path magazine as a plain directory, mounted or not: so does magchanger
    // (the identity it writes still keeps drives out of an empty mount point).
    r.notes.push(
      `line ${e.line}: magazine ${trimSlash(value)} is a directory, used whether or not a disk is mounted there (allow_unmounted), as in vchanger 1.0; for a removable disk, Magazine = UUID:... (or [[magazine]] uuid) is safer`,
    );
    return { path: trimSlash(value), allow_unmounted: true };
  });
}

function mapLegacy08(r: EntryReader, legacy: Raw): void {
  legacy.slots_per_magazine =
    r.count("legacy.slots_per_magazine", 1, 9999) ?? 10;
  if (!r.origins.has("legacy.slots_per_magazine"))
    r.derived.set(
      "legacy.slots_per_magazine",
      "not set: vchanger 0.8's default",
    );
  const bays = r.count("legacy.magazine_bays", 1, 32);
  if (bays !== undefined) legacy.magazine_bays = bays;
  const automount = r.absolute("legacy.automount_dir", "/mnt/vchanger");
  if (automount !== undefined) legacy.automount_dir = automount;
}
