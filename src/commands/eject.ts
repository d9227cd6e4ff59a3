// `magchanger eject -c CONF [BAY|NAME] [--wait SECONDS]`: make a disk safe to pull.
import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import { runEject } from "../unlock/eject-run.ts";
import { runCli } from "./cli.ts";
import { writeStdout } from "./context.ts";

const EXIT_STATUS =
  "Exit status: 0 safe to unplug; 1 failed; 2 usage; 3 config; 4 changer busy; 8 a tool (umount, cryptsetup, bconsole) failed; 10 the disk is in use (a job reads or writes one of its volumes, or a file is open on it): nothing was changed, try later or pass --wait.";

const command = defineCommand({
  meta: {
    name: "eject",
    description:
      "make the disk in a bay safe to unplug: refuse while Bacula uses it, unload its volumes, unmount, close LUKS, update slots",
  },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "the changer's config file",
      required: true,
    },
    target: {
      type: "positional",
      required: false,
      description:
        "bay number or path, or the magazine's name (default: the one bay holding a magazine)",
    },
    wait: {
      type: "string",
      description:
        "wait up to SECONDS for a job using the disk to end (default 0: refuse at once)",
    },
  },
  async run({ args }) {
    const wait = args.wait ?? "0";
    if (!/^\d{1,6}$/.test(wait))
      throw new UsageError(
        `--wait must be whole seconds 0..999999, got "${wait}"`,
      );
    const result = await runEject({
      config: args.config,
      target: args.target,
      waitSeconds: Number(wait),
    });
    writeStdout(result.lines.map((l) => `${l}\n`).join(""));
  },
});

export async function main(args: string[]): Promise<void> {
  await runCli(command, args, EXIT_STATUS);
}
