// Brings the slot registry in line with the magazines that are present. Pure over its inputs:
// absent magazines keep their slots; removals are retired before additions are numbered, so a
// volume that moved between two present disks keeps its slot.
import type { Log } from "../log.ts";
import { quoted } from "../text.ts";
import type { MagazineStatus } from "../disk/discover.ts";
import { hardLinkTwins } from "../disk/hard-links.ts";
import {
  addVolume,
  allocateSlots,
  type Registry,
  retireVolume,
  type SlotEntry,
} from "../state/registry.ts";

export interface ReconcileResult {
  changed: boolean;
  added: SlotEntry[];
  retired: SlotEntry[];
}

export function reconcileRegistry(
  registry: Registry,
  magazines: MagazineStatus[],
  log: Log,
): ReconcileResult {
  const result: ReconcileResult = { changed: false, added: [], retired: [] };
  const present = magazines.filter((m) => m.present && m.identity);
  if (present.length === 0) return result;
  const byMagazine = new Map<string, SlotEntry[]>();
  for (const entry of registry.slots.values()) {
    let list = byMagazine.get(entry.magazine);
    if (!list) byMagazine.set(entry.magazine, (list = []));
    list.push(entry);
  }
  for (const m of present) {
    const { uuid, number } = identityOf(m);
    if (registry.magazines.get(uuid) !== number) {
      registry.magazines.set(uuid, number);
      result.changed = true;
    }
    retireDeparted(registry, m, byMagazine.get(uuid) ?? [], log, result);
    reportIgnored(registry, m, uuid, log, result);
  }
  // Only after every magazine's departures: a volume moved between two present magazines
  // finds its old slot retired.
  const retiredByBarcode = new Map<string, number>();
  for (const [slot, barcode] of registry.retired)
    retiredByBarcode.set(barcode, slot);
  for (const m of present)
    registerArrivals(registry, m, retiredByBarcode, log, result);
  if (result.added.length || result.retired.length) result.changed = true;
  return result;
}

function identityOf(
  m: MagazineStatus,
): NonNullable<MagazineStatus["identity"]> {
  return m.identity as NonNullable<MagazineStatus["identity"]>;
}

/** A registered volume no longer on its present magazine: its slot is retired. */
function retireDeparted(
  registry: Registry,
  m: MagazineStatus,
  entries: SlotEntry[],
  log: Log,
  result: ReconcileResult,
): void {
  const names = new Set(m.volumes);
  for (const entry of entries) {
    if (names.has(entry.barcode)) continue;
    retireVolume(registry, entry);
    result.retired.push(entry);
    log.info(
      `volume ${entry.barcode} left magazine ${identityOf(m).number} (bay ${m.index}): slot ${entry.slot} retired until Bacula is told`,
    );
  }
}

/** Names new to the registry: a returning volume gets its old slot, the rest new ones. */
function registerArrivals(
  registry: Registry,
  m: MagazineStatus,
  retiredByBarcode: Map<string, number>,
  log: Log,
  result: ReconcileResult,
): void {
  const { uuid, number } = identityOf(m);
  const fresh: string[] = [];
  for (const name of m.volumes) {
    const known = registry.byBarcode.get(name);
    if (known) {
      if (known.magazine !== uuid) {
        warnOnce(
          registry,
          uuid,
          name,
          log,
          `barcode ${name} on magazine ${number} (bay ${m.index}) already belongs to slot ${known.slot} of another magazine; ignored`,
          result,
        );
      }
      continue;
    }
    const oldSlot = retiredByBarcode.get(name);
    if (oldSlot !== undefined) {
      // The same volume came back: it gets its old slot, which Bacula may still remember.
      registry.retired.delete(oldSlot);
      const entry = { slot: oldSlot, magazine: uuid, barcode: name };
      addVolume(registry, entry);
      result.added.push(entry);
      log.info(`volume ${name} is back on magazine ${number}: slot ${oldSlot}`);
      continue;
    }
    fresh.push(name);
  }
  if (fresh.length === 0) return;
  fresh.sort();
  dropHardLinks(registry, m, uuid, fresh, log, result);
  if (fresh.length === 0) return;
  const slots = allocateSlots(registry, fresh.length);
  fresh.forEach((barcode, i) => {
    const entry = { slot: slots[i] as number, magazine: uuid, barcode };
    addVolume(registry, entry);
    result.added.push(entry);
  });
  log.info(
    `magazine ${number} (bay ${m.index}): ${fresh.length} new volume(s) in slots ${slots[0]}..${slots[slots.length - 1]}`,
  );
}

/**
 * A new name that is a hard link of a volume already on this magazine is that volume, not a
 * second one (two slots would let Bacula write one file as two volumes): the registered or
 * first name keeps the slot, the other is warned about once and never registered.
 */
function dropHardLinks(
  registry: Registry,
  m: MagazineStatus,
  uuid: string,
  fresh: string[],
  log: Log,
  result: ReconcileResult,
): void {
  if (!m.mountPoint) return;
  const known = m.volumes.filter(
    (n) => registry.byBarcode.get(n)?.magazine === uuid,
  );
  const twins = hardLinkTwins(m.mountPoint, fresh, known);
  for (const [name, first] of twins) {
    fresh.splice(fresh.indexOf(name), 1);
    warnOnce(
      registry,
      uuid,
      name,
      log,
      `ignoring ${quoted(name)} on magazine bay ${m.index}: ${quoted(name)} is a hard link of ${quoted(first)} (one file, one volume); remove the extra name`,
      result,
    );
  }
}

function reportIgnored(
  registry: Registry,
  m: MagazineStatus,
  uuid: string,
  log: Log,
  result: ReconcileResult,
): void {
  for (const name of m.ignored) {
    warnOnce(
      registry,
      uuid,
      name,
      log,
      `ignoring ${quoted(name)} on magazine bay ${m.index}: not a volume (volume names are letters, digits, '_', '.', '-', at most 127, no leading dot)`,
      result,
    );
  }
}

/** Logs a warning about a file once per magazine and file, remembering it in the registry. */
function warnOnce(
  registry: Registry,
  uuid: string,
  name: string,
  log: Log,
  message: string,
  result: ReconcileResult,
): void {
  const key = `${uuid}/${name}`;
  if (registry.ignored.has(key)) return;
  registry.ignored.add(key);
  result.changed = true;
  log.warn(message);
}
