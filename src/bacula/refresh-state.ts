// refresh.json: what Bacula last heard of the changer through a successful update, what its
// catalog lacked then, and the pending mark of an update under way or failed. Read alone (no
// bconsole, no scan) by doctor, `magazine list` and `refresh --if-pending`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChangerContext } from "../changer/context.ts";
import { errnoCode, StateCorruptError } from "../errors.ts";
import { writeFileAtomic } from "../state/atomic.ts";

export interface RefreshState {
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
export type UnknownVolumes = Pick<RefreshState, "unlabeled" | "withData">;

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

export function readState(ctx: Pick<ChangerContext, "config">): RefreshState {
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

export function writeState(ctx: ChangerContext, state: RefreshState): void {
  writeFileAtomic(statePath(ctx), `${JSON.stringify(state)}\n`);
}
