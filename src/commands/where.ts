// `magchanger where -c CONF VOLUME [--json]`: which disk holds a volume, and whether it is in.
import { defineCommand } from "citty";
import { formatLocation, whereIsVolume } from "../bacula/where.ts";
import { runCli } from "./cli.ts";
import { openChanger, writeStdout } from "./context.ts";

const EXIT_STATUS =
  "Exit status: 0 found (attached or in the drawer); 1 not a volume of this changer; 2 usage; 3 config; 6 state file corrupt; 7 cannot switch user; 9 state file unreadable.";

const command = defineCommand({
  meta: {
    name: "where",
    description:
      "which magazine (by name) holds VOLUME, its slot, and whether that disk is attached (reads only)",
  },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "the changer's config file",
      required: true,
    },
    volume: {
      type: "positional",
      description: "the volume name (barcode)",
      required: true,
    },
    json: { type: "boolean", description: "machine-readable output" },
  },
  async run({ args }) {
    const ctx = openChanger(args.config);
    const location = await whereIsVolume(ctx, args.volume);
    writeStdout(
      args.json
        ? `${JSON.stringify(location, null, 2)}\n`
        : formatLocation(location),
    );
  },
});

export async function main(args: string[]): Promise<void> {
  await runCli(command, args, EXIT_STATUS);
}
