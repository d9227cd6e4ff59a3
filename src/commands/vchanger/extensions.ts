// vchanger's own commands beyond Bacula's protocol, each the native command's domain call:
//   LISTMAGS                   `magazine list`'s reports in vchanger 1.0's format
//   CREATEVOLS mag_ndx count   `magazine createvols` of bay mag_ndx + 1, then REFRESH as vchanger
//   REFRESH [--force]          `magchanger refresh`
//   INITMAG mag_bay            `magazine init` of bay mag_bay (0.8), slots_per_magazine volumes
// mag_ndx counts from 0 (vchanger 1.0, the LISTMAGS numbering), mag_bay from 1 (vchanger 0.8).
// What magchanger does differently is refused with a one-line error that says what to do.
import { type MagazineReport, magazineReports } from "../../bacula/report.ts";
import { refreshAndReport } from "../../bacula/refresh-report.ts";
import type { ChangerContext } from "../../changer/context.ts";
import { createVolumes } from "../../changer/init.ts";
import { initBay } from "../../changer/init-bay.ts";
import { scanChanger, withLock } from "../../changer/operations.ts";
import { loadConfig } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { readIndex } from "../../disk/vchanger08.ts";
import { AppError, UsageError } from "../../errors.ts";
import { createFileLog } from "../../log.ts";
import { realSystem } from "../../system/system.ts";
import { writeText } from "../../system/fd-write.ts";
import { openChanger, type RunAsOverride } from "../context.ts";
import type { Extension, VchangerParsed } from "./options.ts";

export interface ExtensionCall {
  config: string;
  runAs: RunAsOverride;
  /** The arguments after the command. */
  args: string[];
  parsed: VchangerParsed;
}

export async function runExtension(
  name: Extension,
  call: ExtensionCall,
): Promise<void> {
  switch (name) {
    case "listmags":
      return listMags(openChanger(call.config, call.runAs));
    case "createvols":
      return createVols(call);
    case "refresh":
      return writeText(
        1,
        await refreshAndReport(openChanger(call.config, call.runAs), {
          force: call.parsed.options.force,
          ifPending: false,
        }),
      );
    case "initmag":
      return initMag(call);
  }
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

async function listMags(ctx: ChangerContext): Promise<void> {
  // A scan first, as vchanger's did: it adopts and registers what is attached now.
  await withLock(ctx, () => scanChanger(ctx));
  writeText(1, formatListMags(await magazineReports(ctx)));
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

function refuse(
  parsed: VchangerParsed,
  key: "label" | "pool" | "magnum",
  why: string,
): void {
  const spelling = parsed.spelled[key];
  if (spelling)
    throw new UsageError(`${why.replace("%s", spelling)}; leave it out`);
}

async function createVols(call: ExtensionCall): Promise<void> {
  const [ndxArg, countArg, start] = call.args;
  if (ndxArg === undefined)
    throw new UsageError("CREATEVOLS needs mag_ndx and count");
  const volumes = count(countArg, "CREATEVOLS count");
  if (start !== undefined)
    throw new UsageError(
      `CREATEVOLS start (${start.slice(0, 20)}) is not supported: magchanger names volumes CHANGER_MMMM_NNNN after the magazine's highest number; leave it out`,
    );
  refuse(
    call.parsed,
    "label",
    "CREATEVOLS %s is not supported: barcodes are CHANGER_MMMM_NNNN so they stay unique across magazines",
  );
  refuse(
    call.parsed,
    "pool",
    "CREATEVOLS %s is not supported: new volumes are labeled into the config's pool (Default Pool, or pool under [bacula])",
  );
  const ndx = bayIndex(loadConfig(call.config), ndxArg, 0) - 1;
  const ctx = openChanger(call.config, call.runAs);
  // A scan first, as vchanger's did: a vchanger magazine there is adopted before it grows.
  await withLock(ctx, () => scanChanger(ctx));
  const result = await createVolumes(ctx, ndx + 1, volumes);
  writeText(
    1,
    result.created.map((e) => `creating label '${e.barcode}'\n`).join("") +
      `Created ${result.created.length} volume files on magazine ${ndx}\n`,
  );
  // vchanger then ran `update slots` and `label barcodes` itself: so does this form.
  writeText(1, await refreshAndReport(ctx, { force: false, ifPending: false }));
}

/** INITMAG's own refusals: a magazine already there (maybe adopted from vchanger just now). */
async function notYetAMagazine(
  ctx: ChangerContext,
  bay: number,
  mountPoint: string,
): Promise<void> {
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
}

async function initMag(call: ExtensionCall): Promise<void> {
  const [bayArg] = call.args;
  if (bayArg === undefined) throw new UsageError("INITMAG needs mag_bay");
  refuse(
    call.parsed,
    "magnum",
    "INITMAG %s is not supported: magchanger numbers magazines itself",
  );
  const config = loadConfig(call.config);
  const bay = bayIndex(config, bayArg, 1);
  const result = await initBay(config, bay, {
    volumes: config.legacy?.slots_per_magazine ?? 10,
    force: false,
    runAs: {
      user: call.runAs.user ?? config.user,
      group: call.runAs.group ?? config.group,
    },
    context: (c) => ({
      config: c,
      log: createFileLog(c.log_file, c.log_level, c.name),
      sys: realSystem(c.tools),
    }),
    warn: () => {},
    check: (ctx, mountPoint) => notYetAMagazine(ctx, bay, mountPoint),
  });
  writeText(
    1,
    `created magazine ${result.identity.number} in bay ${bay} [${result.mountPoint}]\n`,
  );
}
