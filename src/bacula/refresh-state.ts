// refresh.json: what Bacula last heard of the changer through a successful update, what its
// catalog lacked then, and the pending mark of an update under way or failed. Read alone (no
// bconsole, no scan) by doctor, `magazine list` and `refresh --if-pending`. The run-as user owns
// it: read bounded, never through a link, a regular file only (state/read-state.ts), and only
// barcodes are taken from it (doctor and `magazine list` print them).
import { join } from "node:path";
import type { ChangerContext } from "../changer/context.ts";
import { isVolumeName } from "../disk/barcode.ts";
import { StateCorruptError } from "../errors.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readStateText } from "../state/read-state.ts";

/** As large as the registry may be: it lists the same barcodes. */
export const MAX_REFRESH_STATE_BYTES = 64 * 1024 * 1024;

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

const FIX = "remove it (the next refresh then updates Bacula)";

export function readState(ctx: Pick<ChangerContext, "config">): RefreshState {
  const path = statePath(ctx);
  const text = readStateText(
    path,
    "refresh state",
    MAX_REFRESH_STATE_BYTES,
    FIX,
  );
  if (text === undefined) return { version: 1, told: "", barcodes: [] };
  let data: RefreshState;
  try {
    data = JSON.parse(text) as RefreshState;
  } catch {
    data = {} as RefreshState;
  }
  if (!isRefreshState(data))
    throw new StateCorruptError(`refresh state ${path} is corrupt; ${FIX}`);
  return data;
}

const barcodes = (value: unknown): boolean =>
  Array.isArray(value) &&
  value.every((b) => typeof b === "string" && isVolumeName(b));

function isRefreshState(data: RefreshState): boolean {
  if (!data || typeof data !== "object") return false;
  const { pending } = data;
  return (
    data.version === 1 &&
    typeof data.told === "string" &&
    barcodes(data.barcodes) &&
    (data.unlabeled === undefined || barcodes(data.unlabeled)) &&
    (data.withData === undefined || barcodes(data.withData)) &&
    (pending === undefined ||
      (typeof pending === "object" &&
        pending !== null &&
        typeof pending.digest === "string" &&
        typeof pending.since === "string" &&
        Array.isArray(pending.retired) &&
        pending.retired.every((s) => Number.isSafeInteger(s))))
  );
}

export function writeState(ctx: ChangerContext, state: RefreshState): void {
  writeFileAtomic(statePath(ctx), `${JSON.stringify(state)}\n`);
}
