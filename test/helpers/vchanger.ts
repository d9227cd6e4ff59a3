// vchanger-style fixtures, written the way vchanger 0.8.6 and 1.0.x leave them on disk (read from
// their sources: diskchanger.cpp, changerstate.cpp), so adoption is tested against what users have.
import { chmodSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { barcode } from "./changer.ts";
import { snapshotDir } from "./state.ts";

export interface Conf08 {
  name: string;
  workDir: string;
  logFile: string;
  drives?: number;
  slotsPerMagazine?: number;
  bays?: number;
  magazines: string[];
  bconsole?: string;
  automountDir?: string;
}

/** A vchanger 0.8 config in the seed how-to's style (quoted values, comments). */
export function writeConf08(file: string, c: Conf08): string {
  const lines = [
    "# changer_name  -  [required] Name of this autochanger",
    `changer_name = "${c.name}"`,
    `state_dir = "${c.workDir}"`,
    `logfile = "${c.logFile}"`,
    "log_level = LOG_DEBUG",
    `slots_per_magazine = ${c.slotsPerMagazine ?? 10}`,
    `Virtual_Drives = ${c.drives ?? 1}`,
    ...(c.bays ? [`magazine_bays = ${c.bays}`] : []),
    "user = root",
    "group = root",
    ...(c.bconsole ? [`bconsole = ${c.bconsole}`] : []),
    ...(c.automountDir ? [`automount_dir = ${c.automountDir}`] : []),
    ...c.magazines.map((m) => `magazine = "${m}"`),
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

export interface Conf10 {
  name: string;
  workDir: string;
  logFile: string;
  magazines: string[];
  /** Absent: bconsole = "" (Bacula interaction off). */
  bconsole?: string;
  pool?: string;
}

/** A vchanger 1.0 config as its example file spells the keys. */
export function writeConf10(file: string, c: Conf10): string {
  const lines = [
    "[global]",
    `Storage Resource = ${c.name}`,
    `Work Dir = ${c.workDir}`,
    `Logfile = ${c.logFile}`,
    "Log Level = 7",
    "User = root",
    "Group = root",
    `bconsole = "${c.bconsole ?? ""}"`,
    ...(c.bconsole ? [`bconsole config = ${c.bconsole}.conf`] : []),
    ...(c.pool ? [`Default Pool = ${c.pool}`] : []),
    ...c.magazines.map((m) => `Magazine = ${m}`),
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

export interface Magazine08 {
  changer: string;
  number: number;
  volumes: number;
  drives?: number;
  /** A volume vchanger 0.8 left loaded: renamed driveN, named in loadedN. */
  loaded?: { drive: number; volume: number };
}

/** The content each fixture volume gets, so a test can tell the files apart. */
export function volumeData(name: string): string {
  return `bacula volume ${name}\n`;
}

/** What `vchanger CONF initmag` (0.8) writes, plus the state a load leaves. Returns the barcodes. */
export function make08Magazine(mount: string, m: Magazine08): string[] {
  writeFileSync(
    join(mount, "index"),
    `${m.changer}_${String(m.number).padStart(4, "0")}`,
  );
  const names: string[] = [];
  for (let v = 1; v <= m.volumes; v++) {
    const name = barcode(m.changer, m.number, v);
    names.push(name);
    const loaded = m.loaded?.volume === v;
    writeFileSync(
      join(mount, loaded ? `drive${m.loaded?.drive}` : name),
      volumeData(name),
    );
  }
  for (let d = 0; d < (m.drives ?? 1); d++) {
    const name = m.loaded?.drive === d ? names[m.loaded.volume - 1] : "";
    writeFileSync(join(mount, `loaded${d}`), `${name}\n`);
  }
  return names;
}

/** vchanger 0.8's work dir while drive `drive` holds `volume`: N -> mount, stateN, bay1. */
export function make08WorkDir(
  workDir: string,
  mount: string,
  loaded?: { drive: number; volume: string },
): void {
  writeFileSync(join(workDir, "bay1"), `${mount}\n`);
  writeFileSync(join(workDir, "nextmag"), "5");
  writeFileSync(join(workDir, "state0"), `${loaded?.volume ?? ""}\n`);
  if (loaded) symlinkSync(mount, join(workDir, String(loaded.drive)));
}

/** A vchanger 1.0 magazine: a directory of volume files. */
export function make10Magazine(dir: string, names: string[]): void {
  for (const name of names) writeFileSync(join(dir, name), volumeData(name));
  chmodSync(dir, 0o755);
}

/**
 * Every entry under dir that existed in `before` is the same file: same type, inode, size,
 * modification time and bytes (a rename, move or rewrite changes one of them). Returns the
 * problems found; the directory itself is skipped (adoption adds the identity to it).
 */
export function changedFiles(
  before: ReturnType<typeof snapshotDir>,
  after: ReturnType<typeof snapshotDir>,
): string[] {
  const problems: string[] = [];
  for (const [path, old] of Object.entries(before)) {
    if (path === ".") continue;
    const now = after[path];
    if (!now) {
      problems.push(`${path} is gone`);
      continue;
    }
    for (const key of ["type", "ino", "size", "mtimeNs", "content"] as const)
      if (old[key] !== now[key]) problems.push(`${path}: ${key} changed`);
  }
  return problems;
}
