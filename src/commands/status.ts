// `magchanger status -c CONF [--json]`: bays, drawer, drives and what Bacula waits for.
import { defineCommand } from "citty";
import { changerStatus, formatStatus } from "../bacula/status.ts";
import { ToolError } from "../errors.ts";
import { runCli } from "./cli.ts";
import { openChanger, writeStdout } from "./context.ts";

const EXIT_STATUS =
  "Exit status: 0 ok; 1 failed; 2 usage; 3 config; 6 state file corrupt; 7 cannot switch user; 8 the storage daemon's status could not be read through bconsole (everything else is printed first); 9 state file unreadable.";

const command = defineCommand({
  meta: {
    name: "status",
    description:
      "the bays and the drawer, each drive, and what the storage daemon waits for, with the disk it needs by name",
  },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "the changer's config file",
      required: true,
    },
    json: { type: "boolean", description: "machine-readable output" },
  },
  async run({ args }) {
    const status = await changerStatus(openChanger(args.config));
    writeStdout(
      args.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status),
    );
    if (status.baculaError !== undefined)
      throw new ToolError(
        `cannot read the storage daemon's status: ${status.baculaError}`,
      );
  },
});

export async function main(args: string[]): Promise<void> {
  await runCli(command, args, EXIT_STATUS);
}
