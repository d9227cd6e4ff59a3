// Adopting vchanger's magazines as they are, so switching to magchanger is one line in
// bacula-sd.conf. Decisions (README, "Migrating from vchanger"):
// - Only for vchanger configs (config.legacy set: a vchanger.conf or its `config import`).
// - A magazine is adopted the first time the changer scans it, under the changer lock, when it
//   is present (mounted, or a bay with allow_unmounted: vchanger 1.0's directories), carries no
//   magchanger identity and holds volume files or a vchanger 0.8 index naming this changer.
//   Adoption writes the identity directory and nothing else: no volume file is renamed, moved
//   or rewritten, and no barcode changes. The magazine number is the 0.8 index's when it is
//   free, else the next free number.
// - A volume vchanger 0.8 left loaded is a file named driveN (its name is in loadedN). It gets
//   its own name back as a second hard link, so no data moves and driveN stays as 0.8 left it;
//   where the filesystem has no hard links it is left alone and reported.
// - vchanger 0.8's volumes keep 0.8's slot numbers ((bay - 1) * slots_per_magazine + SSSS)
//   when those slots are free, so Bacula's view does not move. Any other volume (vchanger 1.0
//   magazines, a 0.8 slot already taken) gets a new slot from reconcile, and one
//   `magchanger refresh` (or `update slots`) tells Bacula.
import { randomUUID } from "node:crypto";
import { linkSync, lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { volumeName } from "../disk/barcode.ts";
import type { ChangerContext } from "./context.ts";
import { describeErrno } from "../errors.ts";
import { printable } from "../text.ts";
import {
  addVolume,
  nextMagazineNumber,
  type Registry,
} from "../state/registry.ts";
import { type MagazineStatus, sortEntries } from "../disk/discover.ts";
import { type MagazineIdentity, writeIdentity } from "../disk/identity.ts";
import { isMountPoint } from "../system/mounts.ts";
import {
  isVchanger08File,
  parseVolumeName,
  readIndex,
  readLoaded,
  type Vchanger08Index,
  vchanger08Bay,
} from "../disk/vchanger08.ts";

/**
 * Adopts the vchanger magazines among `magazines` (marking them present) and gives vchanger
 * 0.8 volumes their 0.8 slots. Call under the changer lock, after probing the bays and before
 * reconciling the registry. Returns true when `registry` changed.
 */
export function adoptVchangerMagazines(
  ctx: ChangerContext,
  registry: Registry,
  magazines: MagazineStatus[],
): boolean {
  if (!ctx.config.legacy) return false;
  let changed = false;
  for (const m of magazines) {
    if (m.identity || !m.mountPoint) continue;
    const found = inspect(ctx, m, m.mountPoint);
    if (!found) continue;
    try {
      adopt(ctx, registry, m, m.mountPoint, found);
      changed = true;
    } catch (error) {
      m.reason = `cannot adopt the vchanger magazine at ${m.mountPoint}: ${(error as Error).message}; make it writable by ${ctx.config.user}`;
      ctx.log.warn(`bay ${m.index}: ${m.reason}`);
    }
  }
  return seedVchanger08Slots(ctx, registry, magazines) || changed;
}

interface Candidate {
  index: Vchanger08Index | undefined;
  volumes: string[];
  ignored: string[];
}

/** A bay that holds a vchanger magazine to adopt: what is on it; undefined for anything else. */
function inspect(
  ctx: ChangerContext,
  m: MagazineStatus,
  mountPoint: string,
): Candidate | undefined {
  let names: string[];
  let volumes: string[];
  let ignored: string[];
  try {
    const st = statSync(mountPoint);
    // The same rule as discovery: an empty mount point is never a magazine.
    if (!st.isDirectory()) return undefined;
    if (!m.spec.allow_unmounted && !isMountPoint(mountPoint, st))
      return undefined;
    const entries = readdirSync(mountPoint, { withFileTypes: true });
    const sorted = sortEntries(entries);
    if (sorted.identities.length > 0) return undefined;
    names = entries.filter((e) => e.isFile()).map((e) => e.name);
    ({ volumes, ignored } = sorted);
  } catch {
    return undefined;
  }
  const index = names.includes("index") ? readIndex(mountPoint) : undefined;
  if (typeof index === "string") {
    m.reason = `${index}; not adopted`;
    ctx.log.warn(`bay ${m.index}: ${m.reason}`);
    return undefined;
  }
  if (index && index.changer !== ctx.config.name) {
    m.reason = `${mountPoint} holds vchanger magazine ${index.number} of changer ${printable(index.changer)}, not ${ctx.config.name}`;
    ctx.log.info(`bay ${m.index}: ${m.reason}`);
    return undefined;
  }
  if (index) {
    volumes = volumes.filter((n) => !isVchanger08File(n));
    volumes.push(...loadedVolumes(ctx, m, mountPoint, names));
  }
  if (!index && volumes.length === 0) return undefined;
  return { index, volumes: [...new Set(volumes)].sort(), ignored };
}

/**
 * Volumes vchanger 0.8 left loaded (file driveN, name in loadedN), made reachable under their
 * own name by a hard link: nothing is renamed and driveN stays as 0.8 left it.
 */
function loadedVolumes(
  ctx: ChangerContext,
  m: MagazineStatus,
  mountPoint: string,
  files: string[],
): string[] {
  const found: string[] = [];
  for (const file of files) {
    const drive = /^drive(\d+)$/.exec(file)?.[1];
    if (drive === undefined) continue;
    const name = readLoaded(mountPoint, Number(drive));
    const where = `bay ${m.index}: vchanger 0.8 left ${mountPoint}/${file} loaded in drive ${drive}`;
    const volume = parseVolumeName(name ?? "");
    if (!name || !volume || volume.changer !== ctx.config.name) {
      ctx.log.warn(
        `${where}, but loaded${drive} names no volume of ${ctx.config.name}; it is not used (unload it with vchanger, or rename it to its volume name)`,
      );
      continue;
    }
    const from = join(mountPoint, file);
    const to = join(mountPoint, name);
    try {
      if (files.includes(name)) {
        if (lstatSync(from).ino !== lstatSync(to).ino) {
          ctx.log.warn(
            `${where} as ${name}, but another ${name} exists; ${file} is not used`,
          );
        }
        continue;
      }
      linkSync(from, to);
      found.push(name);
      ctx.log.info(
        `${where}: ${file} is now also named ${name} (a hard link: no data moved, ${file} kept)`,
      );
    } catch (error) {
      ctx.log.warn(
        `${where} as ${name}; it is not used: cannot link ${file} to ${name} (${describeErrno(error)}); unload it with vchanger or rename ${file} to ${name}`,
      );
    }
  }
  return found;
}

function adopt(
  ctx: ChangerContext,
  registry: Registry,
  m: MagazineStatus,
  mountPoint: string,
  found: Candidate,
): void {
  const { config } = ctx;
  const wanted = found.index?.number;
  const taken =
    wanted !== undefined && [...registry.magazines.values()].includes(wanted);
  const number =
    wanted !== undefined && !taken ? wanted : nextMagazineNumber(registry);
  let lastVolume = 0;
  for (const name of found.volumes) {
    const v = parseVolumeName(name);
    if (v && name === volumeName(config.name, number, v.volume))
      lastVolume = Math.max(lastVolume, v.volume);
  }
  const identity: MagazineIdentity = {
    uuid: randomUUID(),
    changer: config.name,
    number,
    lastVolume: Math.min(lastVolume, 9999),
    created: new Date().toISOString(),
    vchanger: {
      layout: found.index ? "0.8" : "1.0",
      ...(found.index ? { index: found.index.number } : {}),
      adopted: new Date().toISOString(),
    },
  };
  writeIdentity(mountPoint, identity);
  registry.magazines.set(identity.uuid, number);
  Object.assign(m, {
    present: true,
    identity,
    volumes: found.volumes,
    ignored: found.ignored,
  });
  delete m.reason;
  const origin = found.index
    ? `vchanger 0.8 magazine (index ${found.index.text})`
    : "vchanger 1.0 magazine (a directory of volumes)";
  ctx.log.info(
    `bay ${m.index} (${mountPoint}): adopted the ${origin} as magazine ${number} (${identity.uuid}) with ${found.volumes.length} volume(s); no file renamed` +
      (taken ? `; its number ${wanted} belongs to another magazine` : ""),
  );
}

/** vchanger 0.8 volumes not yet in the registry take 0.8's slot when it is free. */
function seedVchanger08Slots(
  ctx: ChangerContext,
  registry: Registry,
  magazines: MagazineStatus[],
): boolean {
  const legacy = ctx.config.legacy;
  const perMagazine = legacy?.slots_per_magazine;
  if (legacy?.vchanger !== "0.8" || !perMagazine) return false;
  const attached = magazines.filter((m) => m.present).map((m) => m.spec);
  let retired: Set<string> | undefined;
  let changed = false;
  for (const m of magazines) {
    const origin = m.identity?.vchanger;
    if (!m.present || !m.identity || origin?.layout !== "0.8") continue;
    const fresh = m.volumes.filter((n) => !registry.byBarcode.has(n));
    if (fresh.length === 0) continue;
    retired ??= new Set(registry.retired.values());
    const bay = vchanger08Bay(
      ctx.config.work_dir,
      legacy.magazine_bays ?? 1,
      m.spec,
      attached,
    );
    if (bay === undefined) continue;
    const kept: number[] = [];
    for (const name of fresh.sort()) {
      const v = parseVolumeName(name);
      if (
        !v ||
        retired.has(name) ||
        v.changer !== ctx.config.name ||
        v.magazine !== origin.index ||
        v.volume < 1 ||
        v.volume > perMagazine
      )
        continue;
      const slot = (bay - 1) * perMagazine + v.volume;
      const holder =
        registry.slots.get(slot)?.barcode ?? registry.retired.get(slot);
      if (holder !== undefined) {
        ctx.log.info(
          `${name}: vchanger 0.8's slot ${slot} belongs to ${holder}; it gets a new slot (run \`magchanger refresh\` to tell Bacula)`,
        );
        continue;
      }
      addVolume(registry, { slot, magazine: m.identity.uuid, barcode: name });
      kept.push(slot);
    }
    if (kept.length) {
      changed = true;
      ctx.log.info(
        `magazine ${m.identity.number} (bay ${m.index}): ${kept.length} volume(s) keep vchanger 0.8's slots ${Math.min(...kept)}..${Math.max(...kept)} (0.8 bay ${bay})`,
      );
    }
  }
  return changed;
}
