// What a failed `load` wanted: the volume, its slot and its magazine, queued as one
// volume-needed event (events/queue.ts: one small fsync'd file, no scan, no lock beyond the one
// the load holds). Nothing is printed: the load's one error line is all the SD gets, and a
// failure to queue is logged, never thrown into the load.
import { enqueueEvent } from "../events/queue.ts";
import type { SlotEntry } from "../state/registry.ts";
import type { ChangerContext } from "./context.ts";
import { knownMagazineRef, readKnownMagazines } from "./known-magazines.ts";

export function recordVolumeNeeded(
  ctx: ChangerContext,
  entry: SlotEntry,
  number: number | undefined,
  now = new Date(),
): void {
  // The name and label of a disk in the drawer are only in the catalogue (a few hundred bytes).
  const known = readKnownMagazines(ctx.config.work_dir).get(entry.magazine);
  enqueueEvent(
    ctx.config.work_dir,
    {
      kind: "volume-needed",
      volume: entry.barcode,
      slot: entry.slot,
      magazine: knownMagazineRef(entry.magazine, number, known),
      at: now.toISOString(),
    },
    ctx.log,
  );
}
