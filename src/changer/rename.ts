// `magazine rename BAY|NUMBER NAME`: a new human name in the identity on the disk (so it travels
// with the disk to any host) and in the work dir's catalogue (so it is known while the disk is in
// the drawer). Names are unique per changer, ignoring case: `eject Thursday` must mean one disk.
import { AppError, UsageError } from "../errors.ts";
import { type MagazineStatus, probeAll } from "../disk/discover.ts";
import {
  identityFile,
  type MagazineIdentity,
  serializeIdentity,
} from "../disk/identity.ts";
import { describeMagazine } from "../events/types.ts";
import { magazineRef } from "../disk/magazine-name.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readRegistry } from "../state/registry.ts";
import type { ChangerContext } from "./context.ts";
import { checkNameFree, recordIdentity } from "./known-magazines.ts";
import { resolveBay } from "./init.ts";
import { withLock } from "./operations.ts";

/**
 * The attached magazine a BAY|NUMBER argument means: a path or a bay number names a bay; a
 * number also names a magazine. When the two readings differ, the operator must say which.
 */
export function pickMagazine(
  ctx: ChangerContext,
  statuses: MagazineStatus[],
  target: string,
): MagazineStatus & { identity: MagazineIdentity; mountPoint: string } {
  const attached = statuses.filter(
    (
      s,
    ): s is MagazineStatus & {
      identity: MagazineIdentity;
      mountPoint: string;
    } => s.present && s.identity !== undefined && s.mountPoint !== undefined,
  );
  const isNumber = /^\d+$/.test(target);
  const byNumber = isNumber
    ? attached.find((s) => s.identity.number === Number(target))
    : undefined;
  const bayIndex =
    !isNumber || Number(target) <= ctx.config.magazine.length
      ? resolveBay(ctx.config, target)
      : undefined;
  const inBay = statuses.find((s) => s.index === bayIndex);
  const numbered = isNumber
    ? [...readRegistry(ctx.config.work_dir).magazines.values()].includes(
        Number(target),
      )
    : false;
  if (
    numbered &&
    !byNumber &&
    inBay?.identity &&
    inBay.identity.number !== Number(target)
  )
    throw new UsageError(
      `"${target}" is ambiguous: magazine ${target} is in the drawer, and bay ${target} holds magazine ${inBay.identity.number}; attach magazine ${target}, or name the bay by its path (${inBay.spec.path ?? inBay.where}) to rename magazine ${inBay.identity.number}`,
    );
  if (byNumber && inBay && byNumber !== inBay)
    throw new UsageError(
      `"${target}" is ambiguous: magazine ${target} is in bay ${byNumber.index}, and bay ${target} holds ${inBay.identity ? `magazine ${inBay.identity.number}` : "no magazine"}; name the bay by its path (${byNumber.spec.path ?? byNumber.where})`,
    );
  const found =
    byNumber ?? (inBay?.present && inBay.identity ? inBay : undefined);
  if (found?.identity && found.mountPoint)
    return found as ReturnType<typeof pickMagazine>;
  if (inBay)
    throw new AppError(
      `bay ${inBay.index} (${inBay.where}) holds no magazine: ${inBay.reason ?? "absent"}; attach the disk first`,
    );
  throw new AppError(
    `magazine ${target} is not attached; attach the disk first (its name is kept on the disk)`,
  );
}

export interface RenameResult {
  before?: string;
  identity: MagazineIdentity;
  bay: number;
}

export async function renameMagazine(
  ctx: ChangerContext,
  target: string,
  name: string,
  label?: string,
): Promise<RenameResult> {
  return withLock(ctx, async () => {
    const statuses = await probeAll(ctx.config, ctx.sys);
    const status = pickMagazine(ctx, statuses, target);
    const identity = status.identity;
    checkNameFree(ctx, name, identity.uuid);
    const before = identity.name;
    const updated: MagazineIdentity = {
      ...identity,
      name,
      ...(label !== undefined ? { label } : {}),
    };
    writeFileAtomic(
      identityFile(status.mountPoint, identity.uuid),
      serializeIdentity(updated),
    );
    recordIdentity(ctx, updated, status.index);
    ctx.log.info(
      `bay ${status.index}: ${describeMagazine(magazineRef(identity))} renamed to "${name}"`,
    );
    return {
      identity: updated,
      bay: status.index,
      ...(before !== undefined ? { before } : {}),
    };
  });
}
