// `refresh`: tell Bacula what changed when disks come and go. The changer lock is NOT held while
// bconsole runs: the Director makes the storage daemon call this changer back (`slots`, `list`,
// `load`), which needs the lock. A durable "pending" mark, set before bconsole and cleared only
// after it succeeded, makes a failed or killed refresh repeat on the next run.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { quoteName, runBconsole, slotRanges } from "./bconsole.ts";
import {
  blockedDevices,
  listedVolumes,
  type WaitingDevice,
} from "./catalog.ts";
import type { ChangerContext } from "../changer/context.ts";
import { scanChanger, withLock } from "../changer/operations.ts";
import { formatList } from "../changer/protocol.ts";
import { errnoCode, StateCorruptError } from "../errors.ts";
import { volumeTarget } from "../disk/identity.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readRegistry, writeRegistry } from "../state/registry.ts";

interface RefreshState {
  version: 1;
  /** Digest of the `list` output Bacula last saw through a successful update. */
  told: string;
  /** Barcodes in the changer at that time. */
  barcodes: string[];
  /** Blank volumes in the changer that Bacula's catalog did not know after that update. */
  unlabeled?: string[];
  /** Volumes with content (a label) in the changer that the catalog did not know. */
  withData?: string[];
  /** Set while an update is under way or failed: the next refresh runs whatever the digest. */
  pending?: {
    digest: string;
    retired: number[];
    since: string;
  };
}

/** The volumes in the changer that the catalog did not know at the last update. */
type UnknownVolumes = Pick<RefreshState, "unlabeled" | "withData">;

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
  /** Devices the storage daemon shows BLOCKED waiting for a volume. */
  waiting: WaitingDevice[];
}

function statePath(ctx: Pick<ChangerContext, "config">): string {
  return join(ctx.config.work_dir, "refresh.json");
}

/**
 * The volumes the last refresh found unknown to Bacula's catalog, from refresh.json alone (no
 * bconsole, no scan: cheap enough for doctor and `magazine list`); undefined before any refresh.
 */
export function unlabeledAtLastRefresh(
  ctx: Pick<ChangerContext, "config">,
): string[] | undefined {
  const state = readState(ctx);
  return state.told ? (state.unlabeled ?? []) : undefined;
}

/** The volumes with content the last refresh found unknown to the catalog, from refresh.json alone. */
export function withDataAtLastRefresh(
  ctx: Pick<ChangerContext, "config">,
): string[] {
  return readState(ctx).withData ?? [];
}

function readState(ctx: Pick<ChangerContext, "config">): RefreshState {
  const path = statePath(ctx);
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as RefreshState;
    if (
      data.version !== 1 ||
      typeof data.told !== "string" ||
      !Array.isArray(data.barcodes)
    )
      throw new Error("format");
    return data;
  } catch (error) {
    if (errnoCode(error) === "ENOENT")
      return { version: 1, told: "", barcodes: [] };
    throw new StateCorruptError(
      `refresh state ${path} is corrupt; remove it (the next refresh then updates Bacula)`,
    );
  }
}

function writeState(ctx: ChangerContext, state: RefreshState): void {
  writeFileAtomic(statePath(ctx), `${JSON.stringify(state)}\n`);
}

export async function refreshBacula(
  ctx: ChangerContext,
  options: RefreshOptions,
): Promise<RefreshOutcome> {
  // refresh.json is replaced atomically, so reading it without the lock sees a whole version. A
  // changer never refreshed has none: nothing pending (unlock's trigger runs the full refresh).
  if (options.ifPending && !readState(ctx).pending)
    return idle("no Bacula update is pending", {});
  const plan = await withLock(ctx, () => planUpdate(ctx, options.force));
  if (!plan) return idle("Bacula already has the current view", readState(ctx));
  const { commands, known, waiting, ms } = await tellBacula(ctx, plan);
  const unknown = plan.present
    .map((v) => v.barcode)
    .filter((b) => !known.has(b));
  const unlabeled = unknown.filter((b) => plan.blank.has(b));
  const withData = unknown.filter((b) => !plan.blank.has(b));
  await withLock(ctx, () => recordTold(ctx, plan, { unlabeled, withData }));
  ctx.log.info(`refresh: Bacula updated in ${Math.round(ms)} ms`);
  return {
    ran: true,
    reason: plan.reason,
    commands,
    unlabeled,
    withData,
    waiting,
  };
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
  return {
    commands: [update, ...labeling],
    known: second ? listedVolumes(second.output) : listed,
    waiting: blockedDevices(first.output),
    ms: first.ms + (second?.ms ?? 0),
  };
}

/**
 * `label barcodes` for the slots. Bacula 9.6.7 mangles a pool name with a space after the
 * first volume of one command (`Pool "Off\x01Site" resource not found`, seen on the real
 * Director): such a pool gets one command per slot.
 */
function labelCommands(
  storage: string,
  pool: string,
  drive: number,
  slots: number[],
): string[] {
  const groups = /\s/.test(pool) ? slots.map((s) => [s]) : [slots];
  return groups.map(
    (g) =>
      `label barcodes storage=${storage} pool=${quoteName(pool)} drive=${drive} slots=${slotRanges(g)}`,
  );
}

/** Runs the label commands (each confirmed), then lists the catalog again. */
async function labelSlots(ctx: ChangerContext, labeling: string[]) {
  for (const c of labeling) ctx.log.info(`refresh: running bconsole: ${c}`);
  const result = await runBconsole(
    ctx.config,
    [...labeling.flatMap((c) => [c, "yes"]), "list volumes"],
    ctx.sys.exec,
  );
  ctx.log.debug(`refresh: label barcodes said: ${result.output.slice(-4000)}`);
  // Bacula reports a volume it could not label and carries on: say it in the log.
  const failed =
    /^(?:3999 |Label command failed|Pool ".*" resource not found).*$/gm;
  for (const line of result.output.match(failed) ?? [])
    ctx.log.warn(`refresh: label barcodes: ${line}`);
  return result;
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
  };
}

interface Plan {
  pending: NonNullable<RefreshState["pending"]>;
  present: { slot: number; barcode: string }[];
  /** Barcodes whose volume file is still empty: never labeled, safe to label. */
  blank: Set<string>;
  reason: string;
}

/** Under the changer lock: what is in the changer, and whether Bacula must hear of it. */
async function planUpdate(
  ctx: ChangerContext,
  force: boolean,
): Promise<Plan | undefined> {
  const view = await scanChanger(ctx);
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
