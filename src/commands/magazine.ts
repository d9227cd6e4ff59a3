// `magchanger magazine init|createvols|list`: preparing and inspecting magazines.
import { type ArgsDef, type CommandDef, defineCommand } from "citty";
import type { ChangerContext } from "../changer/context.ts";
import { ensureWorkDir } from "../changer/operations.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { AppError, UsageError } from "../errors.ts";
import { createFileLog, teeToStderr } from "../log.ts";
import { resolveMountPoint } from "../disk/discover.ts";
import { isMountPoint } from "../system/mounts.ts";
import { handBayToRunAs } from "../disk/hand-over.ts";
import { createVolumes, initMagazine, resolveBay } from "../changer/init.ts";
import {
  formatReports,
  labelWarning,
  magazineReports,
} from "../bacula/report.ts";
import { dropPrivileges } from "../system/identity.ts";
import { realSystem } from "../system/system.ts";
import { runCli } from "./cli.ts";
import { writeStdout } from "./context.ts";

const EXIT_STATUS =
  "Exit status: 0 ok; 1 failed; 2 usage; 3 config; 4 changer busy; 5 a write failed; 6 state file corrupt; 7 cannot switch user; 9 state file unreadable.";

const configArg = {
  config: {
    type: "string",
    alias: "c",
    description: "the changer's config file",
    required: true,
  },
} as const;

function countArg(
  value: string | undefined,
  what: string,
  max: number,
): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) > max)
    throw new UsageError(
      `${what} must be a whole number 0..${max}, got "${value}"`,
    );
  return Number(value);
}

function context(config: Config): ChangerContext {
  const log = teeToStderr(
    createFileLog(config.log_file, config.log_level, config.name),
    "warn",
  );
  return { config, log, sys: realSystem(config.tools) };
}

/** As root: hand the bay to the run-as user (the seed's manual chown), then become that user. */
function takeBay(config: Config, mountPoint: string): void {
  // The first magazine usually comes before `setup --write`: the work dir and log dir too.
  handBayToRunAs(config, mountPoint, config, { dirs: true });
  dropPrivileges(config);
}

const init = defineCommand({
  meta: {
    name: "init",
    description:
      "make the disk in BAY a magazine of this changer: identity + N volumes (the seed's initmag)",
  },
  args: {
    ...configArg,
    bay: {
      type: "positional",
      description: "1-based [[magazine]] index or its path",
      required: true,
    },
    volumes: {
      type: "string",
      description: "number of volumes to create",
      default: "10",
    },
    force: {
      type: "boolean",
      description:
        "write into an unmounted directory, or re-initialize a magazine",
    },
    label: {
      type: "boolean",
      description:
        "then tell Bacula: update slots and label barcodes of the new volumes ([bacula] pool)",
    },
  },
  async run({ args }) {
    const config = loadConfig(args.config);
    const index = resolveBay(config, args.bay);
    const volumes = countArg(args.volumes, "--volumes", 9999);
    if (args.label && !config.bacula.pool) {
      throw new UsageError(
        `--label needs the pool to label into: set pool = "..." under [bacula] in ${config.source}`,
      );
    }
    const spec = config.magazine[index - 1];
    if (!spec) throw new UsageError(`bay ${index} does not exist`);
    const { mountPoint, reason } = await resolveMountPoint(
      spec,
      realSystem(config.tools),
    );
    if (!mountPoint)
      throw new AppError(`bay ${index} (${args.bay}): ${reason}`);
    let mounted: boolean;
    try {
      mounted = isMountPoint(mountPoint);
    } catch (error) {
      throw new AppError(
        `bay ${index}: cannot use ${mountPoint}: ${(error as NodeJS.ErrnoException).code ?? error}; mount the disk there first`,
      );
    }
    if (!mounted && !spec.allow_unmounted && !args.force) {
      throw new AppError(
        `bay ${index}: nothing is mounted at ${mountPoint}; mount the disk there (with autofs: ls ${mountPoint}) or pass --force to use the bare directory`,
      );
    }
    if (!mounted && !spec.allow_unmounted) {
      process.stderr.write(
        `magchanger: warning: ${mountPoint} is not a mounted filesystem: the changer treats bay ${index} as absent until a disk carrying this identity is mounted there\n`,
      );
    }
    takeBay(config, mountPoint);
    const ctx = context(config);
    ensureWorkDir(ctx);
    const result = await initMagazine(ctx, index, mountPoint, {
      volumes,
      force: Boolean(args.force),
    });
    writeStdout(
      summary(
        `magazine ${result.identity.number} (${result.identity.uuid}) initialized in bay ${index} (${mountPoint})`,
        result.created,
      ),
    );
    if (args.label) {
      // As the seed's here-document into bconsole did, but checked, bounded and retried.
      const { refreshBacula } = await import("../bacula/refresh.ts");
      const outcome = await refreshBacula(ctx, { force: true });
      writeStdout(`Bacula updated: ${outcome.commands.join("; ")}\n`);
    }
  },
});

const createvols = defineCommand({
  meta: {
    name: "createvols",
    description: "add COUNT empty volumes to the magazine in BAY",
  },
  args: {
    ...configArg,
    bay: {
      type: "positional",
      description: "1-based [[magazine]] index or its path",
      required: true,
    },
    count: {
      type: "positional",
      description: "number of volumes to add",
      required: true,
    },
  },
  async run({ args }) {
    const config = loadConfig(args.config);
    const index = resolveBay(config, args.bay);
    const count = countArg(args.count, "COUNT", 9999);
    dropPrivileges(config);
    const ctx = context(config);
    const result = await createVolumes(ctx, index, count);
    writeStdout(
      summary(
        `magazine ${result.identity.number} in bay ${index}: ${result.created.length} volumes added`,
        result.created,
      ),
    );
  },
});

const list = defineCommand({
  meta: {
    name: "list",
    description:
      "each bay: present or absent, which disk, volumes, slots, space (reads only)",
  },
  args: {
    ...configArg,
    json: { type: "boolean", description: "machine-readable output" },
  },
  async run({ args }) {
    const config = loadConfig(args.config);
    dropPrivileges(config);
    const ctx = context(config);
    const reports = await magazineReports(ctx);
    writeStdout(
      args.json
        ? `${JSON.stringify(reports, null, 2)}\n`
        : `${formatReports(reports)}${labelWarning(ctx) ?? ""}`,
    );
  },
});

function summary(
  title: string,
  created: { slot: number; barcode: string }[],
): string {
  if (created.length === 0) return `${title}\n`;
  const first = created[0] as { slot: number; barcode: string };
  const last = created[created.length - 1] as { slot: number; barcode: string };
  return `${title}\n${created.length} volumes ${first.barcode}..${last.barcode} in slots ${first.slot}..${last.slot}\n`;
}

const SUBCOMMANDS: Record<string, CommandDef<ArgsDef>> = {
  init: init as unknown as CommandDef<ArgsDef>,
  createvols: createvols as unknown as CommandDef<ArgsDef>,
  list: list as unknown as CommandDef<ArgsDef>,
};

export async function main(args: string[]): Promise<void> {
  const [name, ...rest] = args;
  const sub = name ? SUBCOMMANDS[name] : undefined;
  if (!sub) {
    if (name === "--help" || name === "-h") {
      process.stdout.write(
        `Usage: magchanger magazine init|createvols|list -c CONFIG ...\n  init -c CONF BAY [--volumes N] [--force]\n  createvols -c CONF BAY COUNT\n  list -c CONF [--json]\n${EXIT_STATUS}\n`,
      );
      return;
    }
    throw new UsageError(
      `magazine needs a subcommand: init, createvols or list${name ? ` (got "${name}")` : ""}`,
    );
  }
  await runCli(sub, rest, EXIT_STATUS);
}
