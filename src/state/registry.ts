// The slot registry: which volume holds which slot, for as long as the volume exists (DESIGN
// property 1). Slots of absent magazines are kept, so a disk swap never renumbers anything. A
// volume that disappears from a present magazine leaves a *retired* slot that is not reused
// until Bacula has been told (refresh drops it); only free numbers are ever handed out.
// The text form and its parser are in registry-text.ts.
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { readStateBytes } from "./read-state.ts";
import { lookupInPlace, type SlotLookup } from "./registry-lookup.ts";
import {
  emptyRegistry,
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
export type { SlotLookup } from "./registry-lookup.ts";

/** A registry of 100,000 volumes is ~6 MiB; anything over this cap is not one of ours. */
export const MAX_REGISTRY_BYTES = 64 * 1024 * 1024;

export function registryPath(workDir: string): string {
  return join(workDir, "slots");
}

function readRegistryBytes(workDir: string): {
  bytes?: Buffer;
  path: string;
} {
  const path = registryPath(workDir);
  const bytes = readStateBytes(
    path,
    "slot registry",
    MAX_REGISTRY_BYTES,
    "restore it from backup or move it aside (slots will be renumbered)",
  );
  return bytes === undefined ? { path } : { bytes, path };
}

export function readRegistry(workDir: string): Registry {
  const { bytes, path } = readRegistryBytes(workDir);
  return bytes === undefined
    ? emptyRegistry()
    : parseRegistry(bytes.toString("utf8"), path);
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

/**
 * One slot, for `load`, without parsing or copying the registry: registry-lookup.ts answers
 * from the bytes of a version 2 file its end line vouches for; anything else (version 1, a
 * damaged or unexpected file) goes to the full parser, which judges (and throws).
 */
export function lookupSlot(workDir: string, slot: number): SlotLookup {
  const { bytes, path } = readRegistryBytes(workDir);
  if (bytes === undefined) return { count: 0 };
  return (
    lookupInPlace(bytes, slot) ??
    fromFullParse(bytes.toString("utf8"), path, slot)
  );
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
