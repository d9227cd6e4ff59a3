// `magchanger magazine rename -c CONF BAY|NUMBER NAME`: a name for an attached disk.
import { renameMagazine } from "../changer/rename.ts";
import type { ChangerContext } from "../changer/context.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { probeAll } from "../disk/discover.ts";
import { filesystemLabel } from "../disk/fs-label.ts";
import { magazineRef, nameProblem } from "../disk/magazine-name.ts";
import { UsageError } from "../errors.ts";
import { describeMagazine } from "../events/types.ts";
import { createFileLog } from "../log.ts";
import { dropPrivileges } from "../system/identity.ts";
import { realSystem } from "../system/system.ts";
import { CONFIG_OPTION, defineCommand } from "./cli.ts";
import { teeToConsole } from "./console.ts";
import { writeText } from "../system/fd-write.ts";

/** A --name or NAME argument, refused with the rule it breaks. */
export function checkedName(
  name: string | undefined,
  what = "--name",
): string | undefined {
  if (name === undefined) return undefined;
  const problem = nameProblem(name);
  if (problem)
    throw new UsageError(`${what} "${name.slice(0, 40)}" ${problem}`);
  return name;
}

function context(config: Config): ChangerContext {
  const log = teeToConsole(
    createFileLog(config.log_file, config.log_level, config.name),
  );
  return { config, log, sys: realSystem(config.tools) };
}

export interface RenameOptions {
  config: string;
  target: string;
  name: string;
}

/** As root the label is read first (the run-as user cannot read the device), then the switch. */
export async function runRename(opts: RenameOptions): Promise<void> {
  const config = loadConfig(opts.config);
  const name = checkedName(opts.name, "NAME") as string;
  const sys = realSystem(config.tools);
  let label: string | undefined;
  if (process.getuid?.() === 0) {
    const bay = (await probeAll(config, sys)).find(
      (s) =>
        s.present &&
        (s.identity?.number === Number(opts.target) ||
          String(s.index) === opts.target ||
          s.spec.path === opts.target),
    );
    if (bay?.mountPoint)
      label = await filesystemLabel(bay.mountPoint, sys, config.tools.blkid);
  }
  dropPrivileges(config);
  const result = await renameMagazine(
    context(config),
    opts.target,
    name,
    label,
  );
  const before = result.before ? ` (was "${result.before}")` : "";
  writeText(
    1,
    `bay ${result.bay}: ${describeMagazine(magazineRef(result.identity))}${before}\n`,
  );
}

export const rename = defineCommand({
  name: "magazine rename",
  summary:
    "Name the attached magazine in BAY (or numbered NUMBER): on the disk itself and in the work dir, so it is known while the disk is in the drawer.",
  options: {
    config: CONFIG_OPTION,
  },
  positionals: [
    {
      name: "BAY|NUMBER",
      description:
        "the bay (its index or path) or the magazine's number; a number that means two different disks is refused",
    },
    {
      name: "NAME",
      description:
        "letters, digits, spaces and ._- (at least one letter, at most 32), unique in the changer",
    },
  ],
  exitStatus: [0, 1, 2, 3, 4, 5, 6, 7, 9],
  run: ({ options, positionals: [target, name] }) =>
    runRename({
      config: options.config,
      target: target as string,
      name: name as string,
    }),
});
