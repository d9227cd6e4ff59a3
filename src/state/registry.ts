// The slot registry: which volume holds which slot, for as long as the volume exists (DESIGN
// property 1). Slots of absent magazines are kept, so a disk swap never renumbers anything. A
// volume that disappears from a present magazine leaves a *retired* slot that is not reused
// until Bacula has been told (refresh drops it); only free numbers are ever handed out.
// The text form and its parser are in registry-text.ts.
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { readStateText } from "./read-state.ts";
import {
  checkEnvelope,
  emptyRegistry,
  HEADER,
  parseRegistry,
  type Registry,
  type SlotEntry,
  serializeRegistry,
} from "./registry-text.ts";

export {
  emptyRegistry,
  parseRegistry,
  type Registry,
  type SlotEntry,
  serializeRegistry,
} from "./registry-text.ts";

/** A registry of 100,000 volumes is ~6 MiB; anything over this cap is not one of ours. */
const MAX_REGISTRY_BYTES = 64 * 1024 * 1024;

export function registryPath(workDir: string): string {
  return join(workDir, "slots");
}

function readRegistryText(workDir: string): { text?: string; path: string } {
  const path = registryPath(workDir);
  const text = readStateText(
    path,
    "slot registry",
    MAX_REGISTRY_BYTES,
    "restore it from backup or move it aside (slots will be renumbered)",
  );
  return text === undefined ? { path } : { text, path };
}

export function readRegistry(workDir: string): Registry {
  const { text, path } = readRegistryText(workDir);
  return text === undefined ? emptyRegistry() : parseRegistry(text, path);
}

export function writeRegistry(workDir: string, registry: Registry): void {
  writeFileAtomic(registryPath(workDir), serializeRegistry(registry));
}

/** The slot count Bacula sees: every live or retired slot, so nothing it knows falls off the end. */
export function slotCount(registry: Registry): number {
  let max = 0;
  for (const slot of registry.slots.keys()) if (slot > max) max = slot;
  for (const slot of registry.retired.keys()) if (slot > max) max = slot;
  return max;
}

/** Hands out `count` free slot numbers, lowest first (holes Bacula was told about, then new). */
export function allocateSlots(registry: Registry, count: number): number[] {
  const result: number[] = [];
  for (let slot = 1; result.length < count; slot++) {
    if (!registry.slots.has(slot) && !registry.retired.has(slot))
      result.push(slot);
  }
  return result;
}

export function addVolume(registry: Registry, entry: SlotEntry): void {
  registry.slots.set(entry.slot, entry);
  registry.byBarcode.set(entry.barcode, entry);
}

export function retireVolume(registry: Registry, entry: SlotEntry): void {
  registry.slots.delete(entry.slot);
  registry.byBarcode.delete(entry.barcode);
  registry.retired.set(entry.slot, entry.barcode);
}

export function nextMagazineNumber(registry: Registry): number {
  let max = 0;
  for (const n of registry.magazines.values()) if (n > max) max = n;
  return max + 1;
}

export interface SlotLookup {
  /** The slot count Bacula sees (as slotCount). */
  count: number;
  entry?: SlotEntry;
  /** The barcode whose removal retired this slot. */
  retired?: string;
  /** The number of entry's magazine. */
  magazineNumber?: number;
}

/**
 * One slot, for `load`: a single pass over the registry text that builds no maps (at 100,000
 * volumes a full parse is ~100 ms of a load). It trusts only a version 2 file whose end line
 * (count and checksum) vouches for it, which the serializer writes only for a registry the
 * parser accepts; anything else goes to the full parser, which judges (and throws).
 */
export function lookupSlot(workDir: string, slot: number): SlotLookup {
  const { text, path } = readRegistryText(workDir);
  if (text === undefined) return { count: 0 };
  if (!text.startsWith(`${HEADER}\n`)) return fromFullParse(text, path, slot);
  const { bodyEnd } = checkEnvelope(text, path);
  const result: SlotLookup = { count: 0 };
  const magazines = new Map<string, number>();
  let found = 0;
  for (let start = HEADER.length + 1; start < bodyEnd;) {
    const end = text.indexOf("\n", start);
    const kind = text.charCodeAt(start);
    if ((kind === 83 || kind === 82) && text.charCodeAt(start + 1) === 32) {
      // "S slot uuid barcode" or "R slot barcode"
      const space = text.indexOf(" ", start + 2);
      const field = text.slice(
        start + 2,
        space < 0 || space > end ? end : space,
      );
      const n = Number(field);
      if (!/^[1-9][0-9]*$/.test(field)) return fromFullParse(text, path, slot);
      if (n > result.count) result.count = n;
      if (n === slot) {
        found++;
        const fields = text.slice(start, end).split(" ");
        if (kind === 83 && fields.length === 4) {
          result.entry = {
            slot,
            magazine: fields[2] as string,
            barcode: fields[3] as string,
          };
        } else if (kind === 82 && fields.length === 3) {
          result.retired = fields[2] as string;
        } else {
          return fromFullParse(text, path, slot);
        }
      }
    } else if (kind === 77) {
      const [, uuid, number] = text.slice(start, end).split(" ");
      if (uuid && number) magazines.set(uuid, Number(number));
    } else if (kind !== 73) {
      return fromFullParse(text, path, slot);
    }
    start = end + 1;
  }
  if (found > 1) return fromFullParse(text, path, slot);
  if (result.entry) {
    const number = magazines.get(result.entry.magazine);
    if (number !== undefined) result.magazineNumber = number;
  }
  return result;
}

function fromFullParse(text: string, path: string, slot: number): SlotLookup {
  const registry = parseRegistry(text, path);
  const result: SlotLookup = { count: slotCount(registry) };
  const entry = registry.slots.get(slot);
  if (entry) {
    result.entry = entry;
    const number = registry.magazines.get(entry.magazine);
    if (number !== undefined) result.magazineNumber = number;
  }
  const retired = registry.retired.get(slot);
  if (retired !== undefined) result.retired = retired;
  return result;
}
