// `refresh`: tell Bacula what changed when disks come and go. The changer lock is NOT held while
// bconsole runs: the Director makes the storage daemon call this changer back (`slots`, `list`,
// `load`), which needs the lock. A durable "pending" mark, set before bconsole and cleared only
// after it succeeded, makes a failed or killed refresh repeat on the next run.
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { quoteName, runBconsole } from "./bconsole.ts";
import { labelCommands, labelSlots, syncBays } from "./refresh-label.ts";
import {
  blockedDevices,
  catalogVolumes,
  listedVolumes,
  type WaitingDevice,
} from "./catalog.ts";
import {
  actOnDamage,
  pulledInUse,
  shortVolumes,
  type VolumePlace,
  volumePlaces,
} from "./damage.ts";
import { parseStorageStatus } from "./sd-status.ts";
import type { ChangerContext } from "../changer/context.ts";
import { noteMagazines } from "../changer/known-magazines.ts";
import { spaceMeter } from "../changer/measure-space.ts";
import { type ResumeMount, resumeAfterUpdate } from "./resume.ts";
import { noteWaitsFromStorage } from "./waiting.ts";
import { ensureWorkDir, scanChanger, withLock } from "../changer/operations.ts";
import { formatList } from "../changer/protocol.ts";
import { awaitUnlockedBays } from "../disk/bay-wait.ts";
import { volumeTarget } from "../disk/identity.ts";
import { readRegistry, writeRegistry } from "../state/registry.ts";
import {
  readState,
  type RefreshState,
  type UnknownVolumes,
  writeState,
} from "./refresh-state.ts";

export interface RefreshOptions {
  force: boolean;
  /**
   * Only repeat an update that did not finish: without a pending mark, return at once, reading
   * refresh.json alone. No scan (stat'ing an autofs bay mounts the disk) and no changer lock.
   */
  ifPending?: boolean;
}

export interface RefreshOutcome {
  ran: boolean;
  reason: string;
  commands: string[];
  /** Blank volumes in the changer that Bacula's catalog does not know (not labeled). */
  unlabeled: string[];
  /** Volumes with content in the changer that the catalog does not know: never labeled by refresh. */
  withData: string[];
  /** Devices the storage daemon shows BLOCKED waiting for a volume, and not resumed. */
  waiting: WaitingDevice[];
  /** Mounts sent for drives blocked waiting for a volume now in the changer (resume.ts). */
  resumed: ResumeMount[];
  /** Volumes found untrustworthy this time (damage.ts), one line each with what to do. */
  damaged: string[];
}

export async function refreshBacula(
  ctx: ChangerContext,
  options: RefreshOptions,
): Promise<RefreshOutcome> {
  // refresh.json is replaced atomically, so reading it without the lock sees a whole version. A
  // changer never refreshed has none: nothing pending (unlock's trigger runs the full refresh).
  if (options.ifPending && !readState(ctx).pending) {
    await noteWaitsFromStorage(ctx);
    return idle("no Bacula update is pending", {});
  }
  // One refresh at a time (the unit a plug restarts, the timer's, one by hand): two at once label
  // the same volumes twice and tell the same damage twice (seen in the VM suite). Not the
  // changer lock, which the storage daemon's calls need while bconsole runs.
  const refreshLock = await acquireRefreshLock(ctx);
  try {
    return await refreshHoldingLock(ctx, options);
  } finally {
    refreshLock.release();
  }
}

async function acquireRefreshLock(ctx: ChangerContext) {
  const { acquireFileLock } = await import("../state/lock.ts");
  const { config } = ctx;
  ensureWorkDir(ctx);
  const seconds = 2 * config.lock_timeout + config.bacula.timeout + 60;
  return acquireFileLock(
    join(config.work_dir, "refresh.lock"),
    seconds,
    (path) =>
      `another refresh of changer ${config.name} held ${path} for more than ${seconds} s; find it with \`fuser -v ${path}\``,
  );
}

async function refreshHoldingLock(
  ctx: ChangerContext,
  options: RefreshOptions,
): Promise<RefreshOutcome> {
  await awaitUnlockedBays(ctx.config, ctx.sys, ctx.log);
  const plan = await withLock(ctx, () => planUpdate(ctx, options.force));
  if (!plan) return idle("Bacula already has the current view", readState(ctx));
  const { commands, known, waiting, ms, output, catalog } = await tellBacula(
    ctx,
    plan,
  );
  const unknown = plan.present
    .map((v) => v.barcode)
    .filter((b) => !known.has(b));
  const unlabeled = unknown.filter((b) => plan.blank.has(b));
  const withData = unknown.filter((b) => !plan.blank.has(b));
  // Before the pending mark is cleared: a failed cancel or mount is retried by the next refresh.
  const damaged = await noteDamage(ctx, plan, output, catalog);
  const resumed = await resumeAfterUpdate(ctx, output, plan.present, catalog);
  await withLock(ctx, () => recordTold(ctx, plan, { unlabeled, withData }));
  ctx.log.info(`refresh: Bacula updated in ${Math.round(ms)} ms`);
  return {
    ran: true,
    reason: plan.reason,
    commands,
    unlabeled,
    withData,
    waiting: waiting.filter((w) => !resumed.some((r) => r.drive === w.drive)),
    resumed,
    damaged,
  };
}

/**
 * A disk pulled while a job used one of its volumes, or a volume back with fewer bytes than the
 * catalog counts: cancelled, marked Error, told (damage.ts).
 */
async function noteDamage(
  ctx: ChangerContext,
  plan: Plan,
  statusOutput: string,
  catalogOutput: string,
): Promise<string[]> {
  const at = new Date().toISOString();
  const catalog = catalogVolumes(catalogOutput);
  return actOnDamage(
    ctx,
    [
      ...pulledInUse(parseStorageStatus(statusOutput), plan.places, at),
      ...shortVolumes(catalog, plan.places, at),
    ],
    catalog,
  );
}

/** `update slots`, the catalog's volumes, then `label barcodes` for the blank ones it lacks. */
async function tellBacula(ctx: ChangerContext, plan: Plan) {
  const { config, log } = ctx;
  const storage = quoteName(config.bacula.storage ?? config.name);
  const drive = config.bacula.drive;
  const pool = config.bacula.pool;
  const update = `update slots storage=${storage} drive=${drive}`;
  log.info(`refresh: ${plan.reason}; running bconsole: ${update}`);
  // The pool is listed first: a Pool the Director lacks fails here, before `label barcodes`
  // (which would fall back to another pool on its own: seen on 9.6.7).
  const first = await runBconsole(
    config,
    [
      update,
      ...(pool ? [`list volumes pool=${quoteName(pool)}`] : []),
      "list volumes",
      `status storage=${storage}`,
    ],
    ctx.sys.exec,
  );
  const listed = listedVolumes(first.output);
  const label = plan.present
    .filter((v) => !listed.has(v.barcode) && plan.blank.has(v.barcode))
    .map((v) => v.slot);
  const labeling =
    pool && label.length > 0 ? labelCommands(storage, pool, drive, label) : [];
  const second = labeling.length ? await labelSlots(ctx, labeling) : undefined;
  if (second) await syncBays(ctx, plan.mounts);
  return {
    commands: [update, ...labeling],
    known: second ? listedVolumes(second.output) : listed,
    waiting: blockedDevices(first.output),
    ms: first.ms + (second?.ms ?? 0),
    output: first.output,
    // The catalog after labeling: a fresh disk's volumes are appendable now.
    catalog: `${first.output}\n${second?.output ?? ""}`,
  };
}

/** After a successful update, under the lock: what Bacula now knows. */
function recordTold(ctx: ChangerContext, plan: Plan, unknown: UnknownVolumes) {
  // Bacula has now seen these slots empty: retired numbers may be handed out again.
  const registry = readRegistry(ctx.config.work_dir);
  let dropped = 0;
  for (const slot of plan.pending.retired)
    if (registry.retired.delete(slot)) dropped++;
  if (dropped) writeRegistry(ctx.config.work_dir, registry);
  writeState(ctx, {
    version: 1,
    told: plan.pending.digest,
    barcodes: plan.present.map((v) => v.barcode),
    ...unknown,
  });
}

/** No bconsole run: what the last update learned of the catalog still stands. */
function idle(reason: string, last: UnknownVolumes): RefreshOutcome {
  return {
    ran: false,
    reason,
    commands: [],
    unlabeled: last.unlabeled ?? [],
    withData: last.withData ?? [],
    waiting: [],
    resumed: [],
    damaged: [],
  };
}

interface Plan {
  pending: NonNullable<RefreshState["pending"]>;
  present: { slot: number; barcode: string }[];
  /** Barcodes whose volume file is still empty: never labeled, safe to label. */
  blank: Set<string>;
  /** Every volume of the registry: its magazine, and its file when attached. */
  places: Map<string, VolumePlace>;
  /** Where the attached magazines are mounted. */
  mounts: string[];
  reason: string;
}

/** Under the changer lock: what is in the changer, and whether Bacula must hear of it. */
async function planUpdate(
  ctx: ChangerContext,
  force: boolean,
): Promise<Plan | undefined> {
  const view = await scanChanger(ctx);
  const now = new Date();
  noteMagazines(ctx, view, now, spaceMeter(ctx.sys, now));
  const digest = createHash("sha256").update(formatList(view)).digest("hex");
  const state = readState(ctx);
  const present: Plan["present"] = [];
  const blank = new Set<string>();
  for (const entry of view.registry.slots.values()) {
    const mount = view.present.get(entry.magazine)?.mountPoint;
    if (!mount) continue;
    present.push({ slot: entry.slot, barcode: entry.barcode });
    if (isBlank(volumeTarget(mount, entry.magazine, entry.barcode)))
      blank.add(entry.barcode);
  }
  // Volumes Bacula did not know last time are labeled once a pool is set, even with no change.
  // Only blank ones: a volume with content Bacula lacks is never labeled, so it must not make
  // every refresh run bconsole.
  // A volume with content that was emptied since (the advice for reusing one) is blank now too.
  const unknown = [...(state.unlabeled ?? []), ...(state.withData ?? [])];
  const toLabel = Boolean(
    ctx.config.bacula.pool && unknown.some((b) => blank.has(b)),
  );
  if (!force && !state.pending && digest === state.told && !toLabel)
    return undefined;
  const pending = {
    digest,
    retired: [...view.registry.retired.keys()],
    since: new Date().toISOString(),
  };
  writeState(ctx, { ...state, pending });
  return {
    pending,
    present,
    blank,
    places: volumePlaces(view, ctx.config.work_dir),
    mounts: [...view.present.values()]
      .map((m) => m.mountPoint)
      .filter((m): m is string => m !== undefined),
    reason: state.pending
      ? "a previous update did not finish"
      : digest !== state.told
        ? "the volumes in the changer changed"
        : toLabel
          ? "volumes are not labeled in Bacula"
          : "forced",
  };
}

function isBlank(path: string): boolean {
  try {
    return statSync(path).size === 0;
  } catch {
    return false;
  }
}
