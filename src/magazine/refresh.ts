// `refresh`: tell Bacula what changed when disks come and go. The changer lock is NOT held while
// bconsole runs: the Director makes the storage daemon call this changer back (`slots`, `list`,
// `load`), which needs the lock. A durable "pending" mark, set before bconsole and cleared only
// after it succeeded, makes a failed or killed refresh repeat on the next run.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { runBconsole, slotRanges } from "../bacula/bconsole.ts";
import type { ChangerContext } from "../changer/context.ts";
import { scanChanger, withLock } from "../changer/operations.ts";
import { formatList } from "../changer/protocol.ts";
import { errnoCode, StateCorruptError } from "../errors.ts";
import { volumeTarget } from "../magazine/identity.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readRegistry, writeRegistry } from "../state/registry.ts";

interface RefreshState {
  version: 1;
  /** Digest of the `list` output Bacula last saw through a successful update. */
  told: string;
  /** Barcodes in the changer at that time. */
  barcodes: string[];
  /** Set while an update is under way or failed: the next refresh runs whatever the digest. */
  pending?: {
    digest: string;
    retired: number[];
    label: number[];
    since: string;
  };
}

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
  labeled: number[];
  ms: number;
}

function statePath(ctx: ChangerContext): string {
  return join(ctx.config.work_dir, "refresh.json");
}

function readState(ctx: ChangerContext): RefreshState {
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
  const { config, log } = ctx;
  const storage = config.bacula.storage ?? config.name;
  const drive = config.bacula.drive;
  // refresh.json is replaced atomically, so reading it without the lock sees a whole version. A
  // changer never refreshed has none: nothing pending (unlock's trigger runs the full refresh).
  if (options.ifPending && !readState(ctx).pending)
    return {
      ran: false,
      reason: "no Bacula update is pending",
      commands: [],
      labeled: [],
      ms: 0,
    };
  const plan = await withLock(ctx, async () => {
    const view = await scanChanger(ctx);
    const listing = formatList(view);
    const digest = createHash("sha256").update(listing).digest("hex");
    const state = readState(ctx);
    const present: { slot: number; barcode: string; magazine: string }[] = [];
    for (const entry of view.registry.slots.values())
      if (view.present.has(entry.magazine)) present.push(entry);
    const known = new Set(state.barcodes);
    const pool = config.bacula.pool;
    const label: number[] = [];
    if (pool) {
      // New volumes that are still empty files have never been labeled: label them into the pool.
      for (const entry of present) {
        if (known.has(entry.barcode)) continue;
        const mount = view.present.get(entry.magazine)?.mountPoint;
        if (
          mount &&
          isBlank(volumeTarget(mount, entry.magazine, entry.barcode))
        )
          label.push(entry.slot);
      }
    }
    if (!options.force && !state.pending && digest === state.told)
      return undefined;
    const pending = {
      digest,
      retired: [...view.registry.retired.keys()],
      label: state.pending
        ? [...new Set([...state.pending.label, ...label])]
        : label,
      since: new Date().toISOString(),
    };
    writeState(ctx, { ...state, pending });
    return {
      pending,
      barcodes: present.map((e) => e.barcode),
      reason: state.pending
        ? "a previous update did not finish"
        : digest === state.told
          ? "forced"
          : "the volumes in the changer changed",
    };
  });
  if (!plan)
    return {
      ran: false,
      reason: "Bacula already has the current view",
      commands: [],
      labeled: [],
      ms: 0,
    };
  const commands = [`update slots storage=${storage} drive=${drive}`];
  const pool = config.bacula.pool;
  if (pool && plan.pending.label.length > 0) {
    commands.push(
      `label barcodes storage=${storage} pool=${pool} drive=${drive} slots=${slotRanges(plan.pending.label)}`,
      "yes",
    );
  }
  log.info(
    `refresh: ${plan.reason}; running bconsole: ${commands.filter((c) => c !== "yes").join("; ")}`,
  );
  const result = await runBconsole(config, commands, ctx.sys.exec);
  await withLock(ctx, () => {
    // Bacula has now seen these slots empty: retired numbers may be handed out again.
    const registry = readRegistry(config.work_dir);
    let dropped = 0;
    for (const slot of plan.pending.retired)
      if (registry.retired.delete(slot)) dropped++;
    if (dropped) writeRegistry(config.work_dir, registry);
    writeState(ctx, {
      version: 1,
      told: plan.pending.digest,
      barcodes: plan.barcodes,
    });
  });
  log.info(`refresh: Bacula updated in ${Math.round(result.ms)} ms`);
  return {
    ran: true,
    reason: plan.reason,
    commands: commands.filter((c) => c !== "yes"),
    labeled: plan.pending.label,
    ms: result.ms,
  };
}

function isBlank(path: string): boolean {
  try {
    return statSync(path).size === 0;
  } catch {
    return false;
  }
}
