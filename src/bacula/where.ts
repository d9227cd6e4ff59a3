// `magchanger where VOLUME`: which disk holds a volume, and whether it is in a bay now. From the
// slot registry and WORK_DIR/magazines.json, plus one stat per bay (locateMagazine): no scan.
import {
  knownMagazineRef,
  readKnownMagazines,
} from "../changer/known-magazines.ts";
import type { ChangerContext } from "../changer/context.ts";
import { locateMagazine } from "../disk/discover.ts";
import { AppError } from "../errors.ts";
import { describeMagazine, type EventMagazine } from "../events/types.ts";
import { readDrives } from "../state/drives.ts";
import { readRegistry } from "../state/registry.ts";
import { printable } from "../text.ts";

export interface VolumeLocation {
  volume: string;
  slot: number;
  magazine: EventMagazine;
  attached: boolean;
  /** Where the magazine is mounted now, when attached. */
  mountPoint?: string;
  /** The drive holding the volume, per the changer's drive state. */
  drive?: number;
  lastAttached?: string;
  lastBay?: number;
}

export async function whereIsVolume(
  ctx: ChangerContext,
  volume: string,
): Promise<VolumeLocation> {
  const workDir = ctx.config.work_dir;
  const registry = readRegistry(workDir);
  const entry = registry.byBarcode.get(volume);
  if (!entry) {
    const retired = [...registry.retired].find(([, b]) => b === volume)?.[0];
    throw new AppError(
      retired !== undefined
        ? `volume ${printable(volume)} was removed from its magazine (its slot ${retired} waits for Bacula to be told: \`magchanger refresh -c ${ctx.config.source}\`)`
        : `volume ${printable(volume)} is not a volume of changer ${ctx.config.name}; \`magchanger magazine list -c ${ctx.config.source}\` shows its magazines`,
    );
  }
  const known = readKnownMagazines(workDir).get(entry.magazine);
  const magazine = knownMagazineRef(
    entry.magazine,
    registry.magazines.get(entry.magazine),
    known,
  );
  const mountPoint = await locateMagazine(ctx.config, entry.magazine, ctx.sys);
  const drive = readDrives(workDir).findIndex((d) => d?.slot === entry.slot);
  return {
    volume,
    slot: entry.slot,
    magazine,
    attached: mountPoint !== undefined,
    ...(mountPoint !== undefined ? { mountPoint } : {}),
    ...(drive >= 0 ? { drive } : {}),
    ...(known?.attachedAt !== undefined
      ? { lastAttached: known.attachedAt }
      : {}),
    ...(known?.bay !== undefined ? { lastBay: known.bay } : {}),
  };
}

export function formatLocation(l: VolumeLocation): string {
  const on = `${l.volume}: slot ${l.slot} on ${describeMagazine(l.magazine)}`;
  const loaded = l.drive !== undefined ? `, loaded in drive ${l.drive}` : "";
  if (l.attached)
    return printable(`${on}, attached at ${l.mountPoint}${loaded}`) + "\n";
  const last = l.lastAttached
    ? ` (last attached ${l.lastAttached}${l.lastBay ? ` in bay ${l.lastBay}` : ""})`
    : "";
  return `${printable(`${on}, in the drawer${last}: attach it for Bacula to use this volume`)}\n`;
}
