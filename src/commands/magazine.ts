// `magchanger magazine init|createvols|list|rename`: preparing and inspecting magazines.
import {
  formatReports,
  labelWarning,
  magazineReports,
} from "../bacula/report.ts";
import type { ChangerContext } from "../changer/context.ts";
import { createVolumes, resolveBay } from "../changer/init.ts";
import { initBay } from "../changer/init-bay.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { createFileLog } from "../log.ts";
import { dropPrivileges } from "../system/identity.ts";
import { realSystem } from "../system/system.ts";
import {
  CONFIG_OPTION,
  defineCommand,
  defineGroup,
  JSON_OPTION,
} from "./cli.ts";
import { teeToConsole, ui } from "./console.ts";
import { writeJson, writeText } from "../system/fd-write.ts";
import {
  drawerReports,
  formatDrawer,
  listJson,
  withAttachTimes,
} from "../bacula/drawer.ts";
import { magazineRef } from "../disk/magazine-name.ts";
import { describeMagazine } from "../events/types.ts";
import { checkedName, rename } from "./magazine-rename.ts";

const EXIT_STATUS = [0, 1, 2, 3, 4, 5, 6, 7, 9];

const config = CONFIG_OPTION;

const bay = {
  name: "BAY",
  description: "the bay: its 1-based [[magazine]] index or its path",
};

function countArg(value: string, what: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) > max)
    throw new UsageError(
      `${what} must be a whole number 0..${max}, got "${value.slice(0, 40)}"`,
    );
  return Number(value);
}

/** As the run-as user: the changer log, its warnings also on the console. */
function context(config: Config): ChangerContext {
  const log = teeToConsole(
    createFileLog(config.log_file, config.log_level, config.name),
  );
  return { config, log, sys: realSystem(config.tools) };
}

function summary(
  title: string,
  created: { slot: number; barcode: string }[],
): string {
  const [first, last] = [created[0], created.at(-1)];
  if (!first || !last) return `${title}\n`;
  return `${title}\n${created.length} volumes ${first.barcode}..${last.barcode} in slots ${first.slot}..${last.slot}\n`;
}

export interface InitOptions {
  config: string;
  bay: string;
  volumes: number;
  force: boolean;
  /** Then tell Bacula (update slots, label barcodes into [bacula] pool). */
  label: boolean;
  /** The operator's name for the disk (checked: disk/magazine-name.ts). */
  name?: string | undefined;
}

export async function runInit(opts: InitOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const index = resolveBay(config, opts.bay);
  if (opts.label && !config.bacula.pool)
    throw new UsageError(
      `--label needs the pool to label into: set pool = "..." under [bacula] in ${config.source}`,
    );
  let ctx: ChangerContext | undefined;
  const result = await initBay(config, index, {
    volumes: opts.volumes,
    force: opts.force,
    forceOption: "--force",
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    runAs: config,
    context: (c) => (ctx = context(c)),
    warn: (message) => ui().warn(message),
  });
  writeText(
    1,
    summary(
      `${describeMagazine(magazineRef(result.identity))} initialized in bay ${index} (${result.mountPoint})`,
      result.created,
    ),
  );
  if (opts.label && ctx) {
    // As the seed's here-document into bconsole did, but checked, bounded and retried.
    const { refreshBacula } = await import("../bacula/refresh.ts");
    const outcome = await refreshBacula(ctx, { force: true });
    writeText(1, `Bacula updated: ${outcome.commands.join("; ")}\n`);
  }
}

const init = defineCommand({
  name: "magazine init",
  summary:
    "Make the disk in BAY a magazine of this changer: an identity and N volumes (the seed's initmag).",
  options: {
    config,
    volumes: {
      type: "string",
      value: "N",
      description: "the number of volumes to create",
      default: "10",
    },
    force: {
      type: "boolean",
      description:
        "write into an unmounted directory, or give a magazine a new identity",
    },
    label: {
      type: "boolean",
      description:
        "then tell Bacula: update slots and label barcodes of the new volumes into [bacula] pool",
    },
    name: {
      type: "string",
      value: "NAME",
      description:
        'a name for the disk, e.g. "Thursday": every message, list and event uses it',
    },
  },
  positionals: [bay],
  exitStatus: EXIT_STATUS,
  run: ({ options, positionals: [bayArg] }) =>
    runInit({
      config: options.config,
      bay: bayArg as string,
      volumes: countArg(options.volumes, "--volumes", 9999),
      force: options.force,
      label: options.label,
      name: checkedName(options.name),
    }),
});

export interface CreateVolsOptions {
  config: string;
  bay: string;
  count: number;
}

export async function runCreateVols(opts: CreateVolsOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const index = resolveBay(config, opts.bay);
  dropPrivileges(config);
  const result = await createVolumes(context(config), index, opts.count);
  writeText(
    1,
    summary(
      `magazine ${result.identity.number} in bay ${index}: ${result.created.length} volumes added`,
      result.created,
    ),
  );
}

const createvols = defineCommand({
  name: "magazine createvols",
  summary: "Add COUNT empty volumes to the magazine in BAY.",
  options: { config },
  positionals: [
    bay,
    { name: "COUNT", description: "the number of volumes to add" },
  ],
  exitStatus: EXIT_STATUS,
  run: ({ options, positionals: [bayArg, countText] }) =>
    runCreateVols({
      config: options.config,
      bay: bayArg as string,
      count: countArg(countText as string, "COUNT", 9999),
    }),
});

export interface ListOptions {
  config: string;
  json: boolean;
}

export async function runList(opts: ListOptions): Promise<void> {
  const config = loadConfig(opts.config);
  dropPrivileges(config);
  const ctx = context(config);
  const reports = withAttachTimes(ctx, await magazineReports(ctx));
  const drawer = drawerReports(ctx, reports);
  if (opts.json) writeJson(listJson(reports, drawer));
  else
    writeText(
      1,
      `${formatReports(reports)}${formatDrawer(drawer)}${labelWarning(ctx) ?? ""}`,
    );
}

const list = defineCommand({
  name: "magazine list",
  summary:
    "Each bay: present or absent, which disk, volumes, slots, space; then every magazine in the drawer, with when it was last attached (reads only).",
  options: {
    config,
    json: JSON_OPTION,
  },
  exitStatus: EXIT_STATUS,
  run: ({ options }) => runList(options),
});

export const command = defineGroup({
  name: "magazine",
  summary: "Prepare and inspect the magazines (disks) of a changer.",
  subcommands: { init, createvols, list, rename },
  exitStatus: EXIT_STATUS,
});
