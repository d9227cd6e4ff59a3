// Preparing magazines: `magazine init` writes a disk's identity and its first volumes,
// `magazine createvols` adds volumes after the highest number the magazine has handed out.
import { randomUUID } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { volumeName } from "../disk/barcode.ts";
import type { ChangerContext } from "./context.ts";
import { withLock } from "./operations.ts";
import { reconcileRegistry } from "./reconcile.ts";
import { checkNameFree, recordIdentity } from "./known-magazines.ts";
import type { Config, MagazineConfig } from "../config/schema.ts";
import { AppError, errnoCode, UsageError } from "../errors.ts";
import {
  syncDirectory,
  writeFailure,
  writeFileAtomic,
} from "../state/atomic.ts";
import {
  addVolume,
  allocateSlots,
  nextMagazineNumber,
  type Registry,
  readRegistry,
  type SlotEntry,
  writeRegistry,
} from "../state/registry.ts";
import { lstatDirectory } from "../state/safe-fs.ts";
import {
  isIdentityName,
  type MagazineStatus,
  probeMagazine,
  sortEntries,
} from "../disk/discover.ts";
import {
  identityDir,
  identityFile,
  MAX_VOLUME,
  type MagazineIdentity,
  serializeIdentity,
} from "../disk/identity.ts";
import { readIndex } from "../disk/vchanger08.ts";
import { quoted } from "../text.ts";

/** BAY is the 1-based [[magazine]] index or its configured path. */
export function resolveBay(config: Config, bay: string): number {
  const count = config.magazine.length;
  if (/^\d+$/.test(bay)) {
    const index = Number(bay);
    if (index < 1 || index > count)
      throw new UsageError(
        `bay ${bay} does not exist: ${config.source} has [[magazine]] 1..${count}`,
      );
    return index;
  }
  const wanted = resolve(bay);
  const index = config.magazine.findIndex(
    (m) => m.path !== undefined && resolve(m.path) === wanted,
  );
  if (index < 0) {
    throw new UsageError(
      `${bay} is not a configured magazine; use a bay number 1..${count} or add [[magazine]] path = "${wanted}" to ${config.source}`,
    );
  }
  return index + 1;
}

export interface InitOptions {
  volumes: number;
  force: boolean;
  /** The operator's name for the disk (checked by the caller: disk/magazine-name.ts). */
  name?: string;
  /** The disk's filesystem label, read by root before the switch to the run-as user. */
  label?: string;
}

export interface InitResult {
  identity: MagazineIdentity;
  mountPoint: string;
  created: SlotEntry[];
}

export async function initMagazine(
  ctx: ChangerContext,
  index: number,
  mountPoint: string,
  options: InitOptions,
): Promise<InitResult> {
  const { config } = ctx;
  return withLock(ctx, () => {
    const existing = readdirSync(mountPoint).filter(isIdentityName);
    refuseInit(index, mountPoint, existing, options.force);
    const registry = readRegistry(config.work_dir);
    const identity: MagazineIdentity = {
      uuid: randomUUID(),
      changer: config.name,
      number: nextMagazineNumber(registry),
      lastVolume: 0,
      created: new Date().toISOString(),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.label !== undefined ? { label: options.label } : {}),
    };
    if (options.name !== undefined)
      checkNameFree(ctx, options.name, identity.uuid);
    for (const old of existing)
      rmSync(`${mountPoint}/${old}`, { recursive: true, force: true });
    writeNewIdentity(mountPoint, identity);
    syncDirectory(mountPoint);
    registry.magazines.set(identity.uuid, identity.number);
    writeRegistry(config.work_dir, registry);
    recordIdentity(ctx, identity, index);
    ctx.log.info(
      `bay ${index} (${mountPoint}): new magazine ${identity.number} (${identity.uuid})`,
    );
    // Files already on the disk (an adopted vchanger magazine) become volumes as they are.
    createVolumeFiles(
      ctx,
      { mountPoint, identity },
      options.volumes,
      registeredNames(registry),
    );
    return {
      identity,
      mountPoint,
      created: registerPresent(ctx, index, mountPoint, identity),
    };
  });
}

/** A bay that is already a magazine (without --force), or a vchanger 0.8 one, is not made anew. */
function refuseInit(
  index: number,
  mountPoint: string,
  existing: string[],
  force: boolean | undefined,
): void {
  if (existing.length > 0 && !force) {
    throw new AppError(
      `bay ${index} (${mountPoint}) is already a magazine (${existing.map(quoted).join(", ")}); add volumes with \`magchanger magazine createvols\`, or pass --force to give it a new identity (its volumes get new slots)`,
    );
  }
  // Its index, loadedN and driveN files would become volumes: adoption handles it instead.
  const vchanger = existing.length === 0 ? readIndex(mountPoint) : undefined;
  if (typeof vchanger === "object") {
    throw new AppError(
      `bay ${index} (${mountPoint}) holds a vchanger 0.8 magazine (index ${vchanger.text}); with the vchanger.conf as config it is adopted as it is by the changer's next scan, or remove index, loadedN and driveN to start it afresh`,
    );
  }
}

/** The identity directory and file, through a directory checked to be a real one. */
function writeNewIdentity(
  mountPoint: string,
  identity: MagazineIdentity,
): void {
  const dir = identityDir(mountPoint, identity.uuid);
  try {
    mkdirSync(dir, { mode: 0o755 });
    // What was made must still be a real directory: the identity file is written through it.
    lstatDirectory(dir);
  } catch (error) {
    throw writeFailure(dir, error);
  }
  writeFileAtomic(
    identityFile(mountPoint, identity.uuid),
    serializeIdentity(identity),
  );
}

export async function createVolumes(
  ctx: ChangerContext,
  index: number,
  count: number,
): Promise<InitResult> {
  return withLock(ctx, async () => {
    const status = await probeMagazine(ctx.config, index, ctx.sys);
    if (!status.present || !status.identity || !status.mountPoint) {
      throw new AppError(
        `bay ${index} (${status.where}) holds no magazine: ${status.reason}`,
      );
    }
    const target = { mountPoint: status.mountPoint, identity: status.identity };
    const registry = readRegistry(ctx.config.work_dir);
    // Only the new names are registered: no rescan of the magazine, time proportional to COUNT.
    const names = createVolumeFiles(
      ctx,
      target,
      count,
      registeredNames(registry),
    );
    const slots = allocateSlots(registry, names.length);
    const created = names.map((barcode, i) => ({
      slot: slots[i] as number,
      magazine: target.identity.uuid,
      barcode,
    }));
    for (const entry of created) addVolume(registry, entry);
    writeRegistry(ctx.config.work_dir, registry);
    return {
      identity: target.identity,
      mountPoint: target.mountPoint,
      created,
    };
  });
}

/**
 * Every barcode the registry knows, live or retired: a new volume never takes one (a lowered
 * lastVolume, or two magazines given one number after the registry was moved aside, would
 * otherwise register a barcode twice, which the parser refuses: every command would exit 6).
 */
function registeredNames(registry: Registry): Set<string> {
  const names = new Set(registry.byBarcode.keys());
  for (const barcode of registry.retired.values()) names.add(barcode);
  return names;
}

/**
 * Creates count empty volume files after identity.lastVolume, never overwriting a file and
 * never using a registered name.
 */
function createVolumeFiles(
  ctx: ChangerContext,
  target: { mountPoint: string; identity: MagazineIdentity },
  count: number,
  taken: Set<string>,
): string[] {
  const { mountPoint, identity } = target;
  const names: string[] = [];
  let number = identity.lastVolume;
  let failure: unknown;
  while (names.length < count) {
    number += 1;
    if (number > MAX_VOLUME) {
      failure = new AppError(
        `magazine ${identity.number} has used all volume numbers up to ${MAX_VOLUME}`,
      );
      break;
    }
    const name = volumeName(ctx.config.name, identity.number, number);
    if (taken.has(name)) {
      ctx.log.warn(
        `magazine ${identity.number}: ${name} is already registered; skipped`,
      );
      continue;
    }
    try {
      closeSync(openSync(`${mountPoint}/${name}`, "wx", 0o640));
      names.push(name);
    } catch (error) {
      if (errnoCode(error) === "EEXIST") continue;
      failure = writeFailure(`${mountPoint}/${name}`, error);
      number -= 1;
      break;
    }
  }
  identity.lastVolume = number;
  try {
    if (names.length > 0) syncDirectory(mountPoint);
    writeFileAtomic(
      identityFile(mountPoint, identity.uuid),
      serializeIdentity(identity),
    );
  } catch (error) {
    failure ??= error;
  }
  if (names.length)
    ctx.log.info(
      `magazine ${identity.number}: created ${names.length} volume(s) ${names[0]}..${names[names.length - 1]}`,
    );
  if (failure) {
    ctx.log.error(
      `magazine ${identity.number}: stopped after ${names.length} of ${count} volumes: ${(failure as Error).message}`,
    );
    throw failure;
  }
  return names;
}

/** Registers every volume on a magazine that was just written (so it is there, mounted or forced). */
function registerPresent(
  ctx: ChangerContext,
  index: number,
  mountPoint: string,
  identity: MagazineIdentity,
): SlotEntry[] {
  const registry = readRegistry(ctx.config.work_dir);
  const { volumes, ignored } = sortEntries(
    readdirSync(mountPoint, { withFileTypes: true }),
  );
  const status: MagazineStatus = {
    index,
    spec: ctx.config.magazine[index - 1] as MagazineConfig,
    where: mountPoint,
    mountPoint,
    present: true,
    identity,
    volumes,
    ignored,
  };
  const result = reconcileRegistry(registry, [status], ctx.log);
  if (result.changed) writeRegistry(ctx.config.work_dir, registry);
  return result.added.sort((a, b) => a.slot - b.slot);
}
