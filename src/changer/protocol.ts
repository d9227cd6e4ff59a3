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
  return formatListAllOf(
    (slot) => presentBarcode(view, slot),
    slotCount(view.registry),
    view.drives,
    driveCount,
  );
}

/** listall from any source of "the barcode present in slot N" (the view, or a cached list). */
export function formatListAllOf(
  barcodeIn: (slot: number) => string | undefined,
  count: number,
  drives: DriveState,
  driveCount: number,
): string {
  const lines: string[] = [];
  const inDrive = new Set<number>();
  for (let drive = 0; drive < driveCount; drive++) {
    const state = drives[drive];
    const barcode = state ? barcodeIn(state.slot) : undefined;
    if (state && barcode === state.barcode) {
      inDrive.add(state.slot);
      lines.push(`D:${drive}:F:${state.slot}:${barcode}`);
    } else {
      lines.push(`D:${drive}:E`);
    }
  }
  for (let slot = 1; slot <= count; slot++) {
    const barcode = inDrive.has(slot) ? undefined : barcodeIn(slot);
    lines.push(barcode ? `S:${slot}:F:${barcode}` : `S:${slot}:E`);
  }
  return `${lines.join("\n")}\n`;
}

export function formatSlots(view: ChangerView): string {
  return `${slotCount(view.registry)}\n`;
}
