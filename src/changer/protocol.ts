// Bacula's changer output formats (see shared/BACULA.md). A volume in a drive is still listed
// under its home slot by `list` (or `update slots` would mark it not InChanger), and as an empty
// slot by `listall`. Volumes of absent magazines read as empty slots.
import type { DriveState } from "../state/drives.ts";
import { slotCount } from "../state/registry.ts";
import type { ChangerView } from "./operations.ts";

function presentBarcode(view: ChangerView, slot: number): string | undefined {
  const entry = view.registry.slots.get(slot);
  return entry && view.present.has(entry.magazine) ? entry.barcode : undefined;
}

export function formatList(view: ChangerView): string {
  const count = slotCount(view.registry);
  const lines: string[] = new Array(count);
  for (let slot = 1; slot <= count; slot++)
    lines[slot - 1] = `${slot}:${presentBarcode(view, slot) ?? ""}`;
  return count ? `${lines.join("\n")}\n` : "";
}

export function formatListAll(view: ChangerView, driveCount: number): string {
  const { lines, inDrive } = driveLines(view.drives, driveCount, (slot) =>
    presentBarcode(view, slot),
  );
  const emptied = new Set(inDrive);
  const count = slotCount(view.registry);
  for (let slot = 1; slot <= count; slot++) {
    const barcode = emptied.has(slot) ? undefined : presentBarcode(view, slot);
    lines.push(barcode ? `S:${slot}:F:${barcode}` : `S:${slot}:E`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * listall's D: lines from any source of "the barcode present in slot N" (the view, or a cached
 * list), and the slots whose volume is in a drive: listall shows those slots empty. A drive
 * whose volume is not the one present in its home slot reads empty.
 */
export function driveLines(
  drives: DriveState,
  driveCount: number,
  barcodeIn: (slot: number) => string | undefined,
): { lines: string[]; inDrive: number[] } {
  const lines: string[] = [];
  const inDrive: number[] = [];
  for (let drive = 0; drive < driveCount; drive++) {
    const state = drives[drive];
    const barcode = state ? barcodeIn(state.slot) : undefined;
    if (state && barcode === state.barcode) {
      inDrive.push(state.slot);
      lines.push(`D:${drive}:F:${state.slot}:${barcode}`);
    } else {
      lines.push(`D:${drive}:E`);
    }
  }
  return { lines, inDrive };
}

export function formatSlots(view: ChangerView): string {
  return `${slotCount(view.registry)}\n`;
}
