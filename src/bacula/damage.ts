// Volumes that can no longer be trusted, found by refresh from its own bconsole answers:
// - a disk pulled while the storage daemon wrote or read one of its volumes. The SD writes on
//   into the dead filesystem's page cache, and Bacula ends the job "Backup OK" with the catalog
//   counting bytes the disk never received (seen on a real kernel: 209 MB in the catalog, 54 MB
//   written when the disk went). refresh cancels the jobs still using it;
// - a volume whose file holds fewer bytes than the catalog counts, seen when its disk is back:
//   the writes were lost (a pull, a power cut).
// Each is marked Error in the catalog (Bacula then neither appends to it nor counts on it), told
// once (volume-damaged), and kept in WORK_DIR/damaged.json for status and doctor while the catalog
// still holds it.
import { statSync } from "node:fs";
import { join } from "node:path";
import type { ChangerContext } from "../changer/context.ts";
import {
  knownMagazineRef,
  readKnownMagazines,
} from "../changer/known-magazines.ts";
import type { ChangerView } from "../changer/operations.ts";
import { volumeTarget as volumeFilePath } from "../disk/identity.ts";
import { enqueueEvent } from "../events/queue.ts";
import { describeVolumeDamage, type EventMagazine } from "../events/types.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { lstatIfExists, readTextIfExists } from "../state/safe-fs.ts";
import { quoteName, runBconsole } from "./bconsole.ts";
import type { CatalogVolume } from "./catalog.ts";
import type { DriveJob, DriveStatus } from "./sd-status.ts";

export type DamageCause = "pulled-in-use" | "short";

export interface DamagedVolume {
  volume: string;
  magazine: EventMagazine;
  cause: DamageCause;
  /** The jobs that used it when its disk was pulled (cancelled when still running). */
  jobs: DriveJob[];
  fileBytes?: number;
  catalogBytes?: number;
  at: string;
}

/** What refresh knows of each volume of the registry: its magazine, and its file when attached. */
export interface VolumePlace {
  magazine: EventMagazine;
  /** The volume's file, when its magazine is attached. */
  file?: string;
}

export const MAX_DAMAGED_BYTES = 1024 * 1024;
const FILE = "damaged.json";

/** The SD uses a volume (reads, writes, or a job holds it) whose disk is not attached. */
export function pulledInUse(
  status: DriveStatus[],
  places: ReadonlyMap<string, VolumePlace>,
  at: string,
): DamagedVolume[] {
  const found = new Map<string, DamagedVolume>();
  for (const d of status) {
    if (!d.volume) continue;
    // A job BLOCKED waiting for the volume it names (a restore, or an append the Director gave a
    // volume of a disk in the drawer) has not opened it: its disk is away by design, not pulled.
    if (d.state === "blocked-mount" && d.wantedVolume === d.volume) continue;
    const active =
      d.state === "writing" || d.state === "reading" || d.jobs.length > 0;
    const place = places.get(d.volume);
    if (!active || !place || place.file !== undefined) continue;
    const seen = found.get(d.volume);
    found.set(d.volume, {
      volume: d.volume,
      magazine: place.magazine,
      cause: "pulled-in-use",
      jobs: [...(seen?.jobs ?? []), ...d.jobs],
      at,
    });
  }
  return [...found.values()];
}

/** Attached volumes whose file is shorter than the catalog's count of an appendable or full one. */
export function shortVolumes(
  catalog: CatalogVolume[],
  places: ReadonlyMap<string, VolumePlace>,
  at: string,
): DamagedVolume[] {
  const out: DamagedVolume[] = [];
  for (const v of catalog) {
    // Purged and recycled volumes may have been truncated on purpose; Error ones are told.
    if (!["Append", "Full", "Used"].includes(v.status)) continue;
    const place = places.get(v.name);
    if (!place?.file) continue;
    let size: number;
    try {
      size = statSync(place.file).size;
    } catch {
      continue; // missing or unreadable: the scan reports it
    }
    if (size < v.bytes)
      out.push({
        volume: v.name,
        magazine: place.magazine,
        cause: "short",
        jobs: [],
        fileBytes: size,
        catalogBytes: v.bytes,
        at,
      });
  }
  return out;
}

/**
 * Cancels the jobs still using a pulled disk, marks every damaged volume Error in the catalog,
 * tells the operator once per volume and records them; volumes no longer in the catalog as Error
 * (deleted, relabeled by the operator) leave the record. Returns the lines refresh prints.
 */
export async function actOnDamage(
  ctx: ChangerContext,
  found: DamagedVolume[],
  catalog: CatalogVolume[],
): Promise<string[]> {
  const record = readDamaged(ctx.config.work_dir);
  const inError = new Set(
    catalog.filter((v) => v.status === "Error").map((v) => v.name),
  );
  const fresh = found.filter(
    (d) => !record.has(d.volume) && !inError.has(d.volume),
  );
  const cancels = [
    ...new Set(
      fresh.flatMap((d) => d.jobs.map((j) => `cancel jobid=${j.jobid} yes`)),
    ),
  ];
  const marks = fresh.map(
    (d) => `update volume=${quoteName(d.volume)} volstatus=Error`,
  );
  for (const c of [...cancels, ...marks])
    ctx.log.warn(`refresh: running bconsole: ${c}`);
  if (cancels.length > 0)
    await runBconsole(ctx.config, cancels, ctx.sys.exec).catch((error) => {
      // The job may have ended in between (`3904 Job N not found.`): the volume is marked anyway.
      if (!/ not found\.?/.test((error as Error).message)) throw error;
      ctx.log.info(`refresh: ${(error as Error).message}`);
    });
  if (marks.length > 0) await runBconsole(ctx.config, marks, ctx.sys.exec);
  const lines: string[] = [];
  for (const d of fresh) {
    record.set(d.volume, d);
    lines.push(`WARN: ${describeVolumeDamage(d)}`);
    enqueueEvent(
      ctx.config.work_dir,
      { kind: "volume-damaged", ...d },
      ctx.log,
    );
  }
  // Listed catalogs only: without one nothing is known of what the operator did since.
  if (catalog.length > 0)
    for (const volume of record.keys())
      if (!inError.has(volume) && !fresh.some((d) => d.volume === volume))
        record.delete(volume);
  writeDamaged(ctx, record);
  return lines;
}

export function readDamaged(workDir: string): Map<string, DamagedVolume> {
  const map = new Map<string, DamagedVolume>();
  let data: unknown;
  try {
    data = JSON.parse(
      readTextIfExists(join(workDir, FILE), { maxBytes: MAX_DAMAGED_BYTES }) ??
        "[]",
    );
  } catch {
    return map; // damaged record: rebuilt from the catalog's Error volumes as they are found
  }
  if (!Array.isArray(data)) return map;
  for (const d of data as DamagedVolume[])
    if (d && typeof d.volume === "string" && d.magazine) map.set(d.volume, d);
  return map;
}

function writeDamaged(ctx: ChangerContext, record: Map<string, DamagedVolume>) {
  const path = join(ctx.config.work_dir, FILE);
  // Nothing to record and no record yet: no file. One that emptied is written as [] (reading it
  // to find out whether it exists failed with EFBIG for any record that held a volume).
  if (record.size === 0 && lstatIfExists(path) === undefined) return;
  writeFileAtomic(path, `${JSON.stringify([...record.values()])}\n`, 0o640);
}

/** The registry's volumes, each with its magazine (named as the catalogue knows it) and file. */
export function volumePlaces(
  view: ChangerView,
  workDir: string,
): Map<string, VolumePlace> {
  const known = readKnownMagazines(workDir);
  const places = new Map<string, VolumePlace>();
  for (const e of view.registry.slots.values()) {
    const mount = view.present.get(e.magazine)?.mountPoint;
    const k = known.get(e.magazine);
    places.set(e.barcode, {
      magazine: knownMagazineRef(
        e.magazine,
        view.registry.magazines.get(e.magazine),
        k,
      ),
      ...(mount ? { file: volumeFilePath(mount, e.magazine, e.barcode) } : {}),
    });
  }
  return places;
}
