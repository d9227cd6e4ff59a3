// A backup that filled the last volume it may write waits for *any* appendable volume of its pool:
// the storage daemon names none (9.6.7: "Cannot find any appendable volumes", its device
// "BLOCKED waiting to create a volume for: Pool: P"), so volume-needed cannot tell it. This says
// which disks in the drawer hold volumes of that pool Bacula may write (from the catalog, by the
// magazine's name) and how much room each has, or that a new disk is needed: one space-needed
// event per wait (space-wanted.ts).
import {
  knownMagazineRef,
  readKnownMagazines,
} from "../changer/known-magazines.ts";
import { estimatedFreeBytes } from "../changer/magazine-space.ts";
import type { ChangerContext } from "../changer/context.ts";
import type { SpaceMagazine } from "../events/types.ts";
import { readRegistry } from "../state/registry.ts";
import { runBconsole } from "./bconsole.ts";
import { type CatalogVolume, catalogVolumes } from "./catalog.ts";
import { withDataAtLastRefresh } from "./refresh-state.ts";
import type { DriveJob, DriveStatus } from "./sd-status.ts";

/** A drive the SD holds waiting for any appendable volume of pool. */
export interface AppendWait {
  drive: number | null;
  pool: string;
  jobs: DriveJob[];
}

export interface SpaceWait extends AppendWait {
  /** Magazines in the drawer with volumes of the pool Bacula may write. */
  drawer: SpaceMagazine[];
  /** Attached magazines with such volumes: the wait is not told, refresh lets it try again. */
  attached: (SpaceMagazine & { bay?: number })[];
  /** Why the catalog could not be read: the wait is shown, not told. */
  catalogError?: string;
}

type Usable = "appendable" | "recyclable" | "purged";

/** The names an event carries per magazine. */
const NAMES_PER_MAGAZINE = 5;
/** Magazines an event names (a changer has far fewer; the event file stays small). */
const MAGAZINES_PER_EVENT = 20;

/** The waits for any appendable volume in `status storage`, each with the pool it names. */
export function appendWaits(status: DriveStatus[]): AppendWait[] {
  return status
    .filter(
      (d) =>
        d.state === "blocked-mount" &&
        d.wantedVolume === undefined &&
        d.wantedPool !== undefined,
    )
    .map((d) => ({
      drive: d.drive,
      pool: d.wantedPool as string,
      jobs: d.jobs,
    }));
}

/**
 * What Bacula may do with a volume when a backup needs one (9.6's order: an Append volume, a
 * recycled one, a purged one, then one whose retention ended, which pruning purges).
 */
export function usableAs(v: CatalogVolume): Usable | undefined {
  if (!v.enabled) return undefined;
  if (v.status === "Append" || v.status === "Recycle") return "appendable";
  if (v.status === "Purged") return "purged";
  if (
    (v.status === "Full" || v.status === "Used") &&
    v.recycle &&
    v.expiresIn === 0
  )
    return "recyclable";
  return undefined;
}

/**
 * Each wait with the magazines holding volumes of its pool that Bacula may write: the catalog
 * says what each volume is, the registry which magazine it is on, magazines.json whether that
 * magazine is attached and its space when last seen. No disk is touched.
 */
export function spaceWaits(
  ctx: ChangerContext,
  waits: AppendWait[],
  catalog: CatalogVolume[],
): SpaceWait[] {
  if (waits.length === 0) return [];
  const registry = readRegistry(ctx.config.work_dir);
  const known = readKnownMagazines(ctx.config.work_dir);
  const byName = new Map(catalog.map((v) => [v.name, v]));
  let withData: Set<string>;
  try {
    withData = new Set(withDataAtLastRefresh(ctx));
  } catch {
    withData = new Set(); // a corrupt refresh.json: refresh and doctor say so
  }
  const entries = [...registry.slots.values()].sort((a, b) => a.slot - b.slot);
  const catalogBytes = (magazine: string): number =>
    entries
      .filter((e) => e.magazine === magazine)
      .reduce((sum, e) => sum + (byName.get(e.barcode)?.bytes ?? 0), 0);
  return waits.map((wait) => {
    const found = new Map<string, SpaceMagazine & { bay?: number }>();
    for (const entry of entries) {
      const volume = byName.get(entry.barcode);
      const kind: Usable | "unlabeled" | undefined = volume
        ? volume.pool === wait.pool
          ? usableAs(volume)
          : undefined
        : ctx.config.bacula.pool === wait.pool && !withData.has(entry.barcode)
          ? "unlabeled"
          : undefined;
      if (!kind) continue;
      let m = found.get(entry.magazine);
      if (!m) {
        const k = known.get(entry.magazine);
        m = {
          magazine: knownMagazineRef(
            entry.magazine,
            registry.magazines.get(entry.magazine),
            k,
          ),
          appendable: 0,
          recyclable: 0,
          purged: 0,
          unlabeled: 0,
          volumes: [],
          reusableBytes: 0,
          ...(k?.space
            ? {
                freeBytes: estimatedFreeBytes(
                  k.space,
                  catalogBytes(entry.magazine),
                ),
                freeAt: k.space.at,
              }
            : {}),
          ...(k?.attached && k.bay !== undefined ? { bay: k.bay } : {}),
        };
        found.set(entry.magazine, m);
      }
      m[kind] += 1;
      if (m.volumes.length < NAMES_PER_MAGAZINE) m.volumes.push(entry.barcode);
      if (volume && (kind === "recyclable" || kind === "purged"))
        m.reusableBytes += volume.bytes;
    }
    const all = [...found.entries()].sort(
      ([, a], [, b]) => a.magazine.number - b.magazine.number,
    );
    const isAttached = (uuid: string) => known.get(uuid)?.attached === true;
    return {
      ...wait,
      drawer: all
        .filter(([uuid]) => !isAttached(uuid))
        .map(([, m]) => withoutBay(m))
        .slice(0, MAGAZINES_PER_EVENT),
      attached: all.filter(([uuid]) => isAttached(uuid)).map(([, m]) => m),
    };
  });
}

function withoutBay(m: SpaceMagazine & { bay?: number }): SpaceMagazine {
  const { bay: _bay, ...rest } = m;
  return rest;
}

/**
 * The append waits in status with their magazines, asking the catalog (`list volumes`, every
 * pool: a volume another pool holds is not "new") in one bounded bconsole call, only when a
 * drive waits so. A failed call is carried in each wait's catalogError, never thrown.
 */
export async function readSpaceWaits(
  ctx: ChangerContext,
  status: DriveStatus[],
): Promise<SpaceWait[]> {
  const waits = appendWaits(status);
  if (waits.length === 0) return [];
  try {
    const { output } = await runBconsole(
      ctx.config,
      ["list volumes"],
      ctx.sys.exec,
    );
    return spaceWaits(ctx, waits, catalogVolumes(output));
  } catch (error) {
    const catalogError = (error as Error).message;
    return waits.map((w) => ({ ...w, drawer: [], attached: [], catalogError }));
  }
}
