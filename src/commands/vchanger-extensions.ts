// vchanger's own commands beyond Bacula's protocol, mapped onto magchanger's:
//   LISTMAGS                       `magazine list` data in vchanger 1.0's format
//   CREATEVOLS mag_ndx count       `magazine createvols` of bay mag_ndx + 1, then REFRESH as vchanger
//   REFRESH [--force]              `magchanger refresh`
//   INITMAG mag_bay                `magazine init` of bay mag_bay (0.8), slots_per_magazine volumes
// mag_ndx counts from 0 (vchanger 1.0, the LISTMAGS numbering), mag_bay from 1 (vchanger 0.8).
// What magchanger does differently is refused with a one-line error that says what to do.
import { runRefresh } from "./refresh.ts";
import type { ChangerContext } from "../changer/context.ts";
import { scanChanger, withLock } from "../changer/operations.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { AppError, UsageError } from "../errors.ts";
import { resolveMountPoint } from "../disk/discover.ts";
import { isMountPoint } from "../system/mounts.ts";
import { handBayToRunAs } from "../disk/hand-over.ts";
import { createVolumes, initMagazine } from "../changer/init.ts";
import { type MagazineReport, magazineReports } from "../bacula/report.ts";
import { readIndex } from "../disk/vchanger08.ts";
import { realSystem } from "../system/system.ts";
import { openChanger, type RunAsOverride, writeStdout } from "./context.ts";

export interface VchangerOptions {
  label?: { name: string; value: string | undefined };
  pool?: { name: string; value: string | undefined };
  magnum?: { name: string; value: string | undefined };
  /** The spelling given (--force). */
  force?: string;
}

/** Which command each command-specific option belongs to. */
export const EXTENSION_OPTIONS: Record<keyof VchangerOptions, string> = {
  label: "createvols",
  pool: "createvols",
  magnum: "initmag",
  force: "refresh",
};

const EXTENSIONS = ["listmags", "createvols", "refresh", "initmag"] as const;

export function isExtension(name: string): name is (typeof EXTENSIONS)[number] {
  return (EXTENSIONS as readonly string[]).includes(name);
}

/** vchanger 1.0's LISTMAGS lines: `N:::` for an empty bay, else `N:SLOTS:FIRST_SLOT:MOUNT`. */
export function formatListMags(reports: MagazineReport[]): string {
  return reports
    .map((r) =>
      r.present
        ? `${r.bay - 1}:${r.slots?.count ?? 0}:${r.slots?.first ?? 0}:${r.mountPoint}\n`
        : `${r.bay - 1}:::\n`,
    )
    .join("");
}

export async function listMags(ctx: ChangerContext): Promise<void> {
  // A scan first, as vchanger's did: it adopts and registers what is attached now.
  await withLock(ctx, () => scanChanger(ctx));
  writeStdout(formatListMags(await magazineReports(ctx)));
}

function count(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d{1,4}$/.test(value) || Number(value) < 1)
    throw new UsageError(
      `${what} must be a whole number 1..9999, got ${value === undefined ? "nothing" : `"${value.slice(0, 40)}"`}`,
    );
  return Number(value);
}

function bayIndex(config: Config, value: string, base: 0 | 1): number {
  const last = config.magazine.length - 1 + base;
  if (!/^\d{1,3}$/.test(value) || Number(value) < base || Number(value) > last)
    throw new UsageError(
      `magazine ${base === 0 ? "index" : "bay"} "${value.slice(0, 40)}" does not exist: ${config.source} has ${base === 0 ? "magazine indexes (LISTMAGS)" : "bays"} ${base}..${last}`,
    );
  return Number(value) + 1 - base;
}

export async function createVols(
  configPath: string,
  runAs: RunAsOverride,
  args: string[],
  options: VchangerOptions,
): Promise<void> {
  const [ndxArg, countArg, start] = args;
  if (ndxArg === undefined)
    throw new UsageError("CREATEVOLS needs mag_ndx and count");
  const volumes = count(countArg, "CREATEVOLS count");
  if (start !== undefined)
    throw new UsageError(
      `CREATEVOLS start (${start.slice(0, 20)}) is not supported: magchanger names volumes CHANGER_MMMM_NNNN after the magazine's highest number; leave it out`,
    );
  if (options.label)
    throw new UsageError(
      `CREATEVOLS ${options.label.name} is not supported: barcodes are CHANGER_MMMM_NNNN so they stay unique across magazines; leave it out`,
    );
  if (options.pool)
    throw new UsageError(
      `CREATEVOLS ${options.pool.name} is not supported: new volumes are labeled into the config's pool (Default Pool, or pool under [bacula]); leave it out`,
    );
  const ndx = bayIndex(loadConfig(configPath), ndxArg, 0) - 1;
  const ctx = openChanger(configPath, runAs);
  // A scan first, as vchanger's did: a vchanger magazine there is adopted before it grows.
  await withLock(ctx, () => scanChanger(ctx));
  const result = await createVolumes(ctx, ndx + 1, volumes);
  writeStdout(
    result.created.map((e) => `creating label '${e.barcode}'\n`).join("") +
      `Created ${result.created.length} volume files on magazine ${ndx}\n`,
  );
  // vchanger then ran `update slots` and `label barcodes` itself: so does this form.
  await refresh(ctx, [], {});
}

export async function refresh(
  ctx: ChangerContext,
  _args: string[],
  options: VchangerOptions,
): Promise<void> {
  await runRefresh(ctx, Boolean(options.force));
}

export async function initMag(
  configPath: string,
  runAs: RunAsOverride,
  args: string[],
  options: VchangerOptions,
): Promise<void> {
  const [bayArg] = args;
  if (bayArg === undefined) throw new UsageError("INITMAG needs mag_bay");
  if (options.magnum)
    throw new UsageError(
      `INITMAG ${options.magnum.name} is not supported: magchanger numbers magazines itself; leave it out`,
    );
  const config = loadConfig(configPath);
  const bay = bayIndex(config, bayArg, 1);
  const spec = config.magazine[bay - 1];
  if (!spec) throw new UsageError(`bay ${bay} does not exist`);
  const { mountPoint, reason } = await resolveMountPoint(
    spec,
    realSystem(config.tools),
  );
  if (!mountPoint) throw new AppError(`bay ${bay}: ${reason}`);
  let mounted: boolean;
  try {
    mounted = isMountPoint(mountPoint);
  } catch (error) {
    throw new AppError(
      `bay ${bay}: cannot use ${mountPoint}: ${(error as NodeJS.ErrnoException).code ?? error}; mount the disk there first`,
    );
  }
  if (!mounted && !spec.allow_unmounted)
    throw new AppError(
      `bay ${bay}: nothing is mounted at ${mountPoint}; mount the disk there first (with autofs: ls ${mountPoint})`,
    );
  // As root, the seed's `chown bacula:disk MOUNT` before initmag: the run-as user writes there.
  handBayToRunAs(
    config,
    mountPoint,
    { user: runAs.user ?? config.user, group: runAs.group ?? config.group },
    { dirs: false },
  );
  const ctx = openChanger(configPath, runAs);
  // A vchanger magazine already there is adopted by this scan, never initialized over.
  const view = await withLock(ctx, () => scanChanger(ctx));
  const status = view.magazines[bay - 1];
  if (status?.present && status.identity)
    throw new AppError(
      `bay ${bay} (${mountPoint}) already holds magazine ${status.identity.number}${status.identity.vchanger ? ", adopted from vchanger" : ""}; add volumes with CREATEVOLS ${bay - 1} COUNT`,
    );
  const index = readIndex(mountPoint);
  if (index !== undefined)
    throw new AppError(
      `bay ${bay} (${mountPoint}) holds a vchanger magazine that is not this changer's (${typeof index === "string" ? index : `index ${index.text}`}); use another disk`,
    );
  const result = await initMagazine(ctx, bay, mountPoint, {
    volumes: config.legacy?.slots_per_magazine ?? 10,
    force: false,
  });
  writeStdout(
    `created magazine ${result.identity.number} in bay ${bay} [${mountPoint}]\n`,
  );
}
