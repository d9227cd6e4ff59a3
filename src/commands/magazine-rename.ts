// `magchanger magazine rename -c CONF BAY|NUMBER NAME`: a name for an attached disk.
import { defineCommand } from "citty";
import { renameMagazine } from "../changer/rename.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { probeAll } from "../disk/discover.ts";
import { filesystemLabel } from "../disk/fs-label.ts";
import { magazineRef, nameProblem } from "../disk/magazine-name.ts";
import { UsageError } from "../errors.ts";
import { describeMagazine } from "../events/types.ts";
import { createFileLog, teeToStderr } from "../log.ts";
import { dropPrivileges } from "../system/identity.ts";
import { realSystem } from "../system/system.ts";
import { writeStdout } from "./context.ts";

const configArg = {
  config: {
    type: "string",
    alias: "c",
    description: "the changer's config file",
    required: true,
  },
} as const;

function context(config: Config) {
  const log = teeToStderr(
    createFileLog(config.log_file, config.log_level, config.name),
    "warn",
  );
  return { config, log, sys: realSystem(config.tools) };
}

export function checkedName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const problem = nameProblem(name);
  if (problem) throw new UsageError(`--name "${name}" ${problem}`);
  return name;
}

export const rename = defineCommand({
  meta: {
    name: "rename",
    description:
      "give the attached magazine in BAY (or numbered NUMBER) the name NAME, on the disk and in the work dir",
  },
  args: {
    ...configArg,
    target: {
      type: "positional",
      description: "bay (index or path) or magazine number",
      required: true,
    },
    name: { type: "positional", description: "the new name", required: true },
  },
  async run({ args }) {
    const config = loadConfig(args.config);
    const name = checkedName(args.name) as string;
    const result = await runRename(config, args.target, name);
    const before = result.before ? ` (was "${result.before}")` : "";
    writeStdout(
      `bay ${result.bay}: ${describeMagazine(magazineRef(result.identity))}${before}\n`,
    );
  },
});

/** As root the label is read first (the run-as user cannot read the device), then the switch. */
async function runRename(config: Config, target: string, name: string) {
  const sys = realSystem(config.tools);
  let label: string | undefined;
  if (process.getuid?.() === 0) {
    const statuses = await probeAll(config, sys);
    const bay = statuses.find(
      (s) =>
        s.present &&
        (s.identity?.number === Number(target) ||
          String(s.index) === target ||
          s.spec.path === target),
    );
    if (bay?.mountPoint)
      label = await filesystemLabel(bay.mountPoint, sys, config.tools.blkid);
  }
  dropPrivileges(config);
  return renameMagazine(context(config), target, name, label);
}
