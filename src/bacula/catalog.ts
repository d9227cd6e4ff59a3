// What bconsole's output says about the catalog and the storage daemon (Bacula 9.6.7 wording,
// read from a real Director: see test/e2e/bacula/boundary.test.ts).

/** Volume names in `list volumes` tables: `| MediaId | VolumeName | ...` rows. */
export function listedVolumes(output: string): Set<string> {
  const names = new Set<string>();
  for (const m of output.matchAll(/^\|\s*\d+\s*\|\s*([^\s|]+)\s*\|/gm))
    if (m[1]) names.add(m[1]);
  return names;
}

export interface WaitingDevice {
  /** The drive index, from the device's Archive Device (`.../driveN`), when it says. */
  drive: number | undefined;
  /** The volume the SD asks for, when it names one. */
  volume: string | undefined;
}

/**
 * Devices `status storage` shows as BLOCKED (a job waits for an operator). A device block starts
 * with `Device File: "NAME" (ARCHIVE DEVICE) is ...`; the BLOCKED line follows it.
 */
export function blockedDevices(output: string): WaitingDevice[] {
  const found: WaitingDevice[] = [];
  let archive: string | undefined;
  for (const line of output.split("\n")) {
    const device = /^Device \S+: "[^"]*" \(([^)]*)\)/.exec(line);
    if (device) archive = device[1];
    if (!/\bis BLOCKED waiting\b/.test(line)) continue;
    const drive = /(?:^|\/)drive(\d+)$/.exec(archive ?? "")?.[1];
    found.push({
      drive: drive === undefined ? undefined : Number(drive),
      volume: /waiting for mount of volume "([^"]*)"/.exec(line)?.[1],
    });
  }
  return found;
}

/** A volume as the catalog lists it (`list volumes`). */
export interface CatalogVolume {
  name: string;
  pool: string;
  /** VolStatus: Append, Full, Used, Purged, Recycle, Error, Read-Only, ... */
  status: string;
  enabled: boolean;
  bytes: number;
  /** Bacula may recycle it once its retention ends (the volume's Recycle flag). */
  recycle: boolean;
  inChanger: boolean;
  /** Seconds until its retention ends, 0 once it has (ExpiresIn, when the listing has it). */
  expiresIn?: number;
}

const count = (cell: string | undefined): number | undefined =>
  cell !== undefined && /^[\d,]+$/.test(cell)
    ? Number(cell.replaceAll(",", ""))
    : undefined;

/**
 * Every volume of the `list volumes` tables in bconsole's output, each in its pool: every pool's
 * listing puts `Pool: NAME` before each table; `list volumes pool=P` prints none (its rows are
 * P's), and for a pool the Director lacks 9.6.7 says `Automatically selected Pool: OTHER` and
 * lists that one. A table of no known pool is skipped; a volume listed twice is its last row.
 */
export function catalogVolumes(output: string): CatalogVolume[] {
  const volumes = new Map<string, CatalogVolume>();
  let pool: string | undefined;
  let columns: string[] = [];
  for (const raw of output.replaceAll("\r", "").split("\n")) {
    const line = raw.trimEnd();
    const command = /^list volumes(?:\s+pool=(?:"([^"]*)"|(\S+)))?$/.exec(line);
    if (command) {
      pool = command[1] ?? command[2];
      continue;
    }
    const named = /^(?:Automatically selected )?Pool: (.+)$/.exec(line)?.[1];
    if (named !== undefined) {
      pool = named.trim();
      continue;
    }
    if (!line.startsWith("|")) continue;
    const cells = line
      .slice(1, -1)
      .split("|")
      .map((c) => c.trim());
    if (cells[0] === "MediaId") {
      columns = cells;
      continue;
    }
    if (pool === undefined || !/^\d+$/.test(cells[0] ?? "")) continue;
    const cell = (name: string) => cells[columns.indexOf(name)];
    const name = cell("VolumeName");
    const bytes = count(cell("VolBytes"));
    if (!name || bytes === undefined) continue;
    const expiresIn = count(cell("ExpiresIn"));
    volumes.set(name, {
      name,
      pool,
      status: cell("VolStatus") ?? "",
      enabled: cell("Enabled") === "1",
      bytes,
      recycle: cell("Recycle") === "1",
      inChanger: cell("InChanger") === "1",
      ...(expiresIn !== undefined ? { expiresIn } : {}),
    });
  }
  return [...volumes.values()];
}
