// `magchanger eject -c CONF [BAY|NAME] [--wait SECONDS]`: make a disk safe to pull.
import { ejectAsRoot } from "../bacula/eject-run.ts";
import { UsageError } from "../errors.ts";
import { CONFIG_OPTION, defineCommand } from "./cli.ts";
import { writeText } from "../system/fd-write.ts";

export interface EjectCommandOptions {
  config: string;
  /** A bay number or path, or a magazine's name; default: the one bay holding a magazine. */
  target: string | undefined;
  /** How long to wait for a job using the disk to end (0: refuse at once). */
  waitSeconds: number;
}

export async function runEject(opts: EjectCommandOptions): Promise<void> {
  const result = await ejectAsRoot(opts);
  writeText(1, result.lines.map((l) => `${l}\n`).join(""));
}

function waitArg(value: string): number {
  if (!/^\d{1,6}$/.test(value))
    throw new UsageError(
      `eject: --wait must be whole seconds 0..999999, got "${value.slice(0, 40)}"`,
    );
  return Number(value);
}

export const command = defineCommand({
  name: "eject",
  summary:
    "Make the disk in a bay safe to unplug (as root): refuse while Bacula uses it, unload its volumes, unmount, close LUKS, update slots.",
  options: {
    config: CONFIG_OPTION,
    wait: {
      type: "string",
      value: "SECONDS",
      default: "0",
      description:
        "wait up to SECONDS for a job using the disk to end; 0 refuses at once",
    },
  },
  positionals: [
    {
      name: "BAY|NAME",
      optional: true,
      description:
        "bay number or path, or the magazine's name (default: the one bay holding a magazine)",
    },
  ],
  exitStatus: [
    [0, "safe to unplug"],
    1,
    2,
    3,
    4,
    [8, "a tool (umount, cryptsetup, bconsole) failed"],
    10,
  ],
  run: ({ options, positionals: [target] }) =>
    runEject({
      config: options.config,
      target,
      waitSeconds: waitArg(options.wait),
    }),
});
