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
