// `magchanger refresh -c CONF [--force]`: safe from udev/systemd, cron or by hand,
// concurrently with the storage daemon's changer calls. Never run from a changer call.
import { defineCommand } from "citty";
import { refreshBacula } from "../magazine/refresh.ts";
import { runCli } from "./cli.ts";
import { openChanger, writeStdout } from "./context.ts";

const EXIT_STATUS =
  "Exit status: 0 Bacula is up to date; 1 failed; 2 usage; 3 config; 4 changer busy; 5 state write failed; 7 cannot switch user; 8 bconsole missing, failed or timed out (the update is retried by the next refresh).";

const command = defineCommand({
  meta: {
    name: "refresh",
    description:
      "tell Bacula (update slots; label barcodes for new blank volumes when [bacula] pool is set) when the volumes in the changer changed",
  },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "the changer's config file",
      required: true,
    },
    force: {
      type: "boolean",
      description: "run bconsole even when nothing changed",
    },
  },
  async run({ args }) {
    const ctx = openChanger(args.config);
    const outcome = await refreshBacula(ctx, { force: Boolean(args.force) });
    writeStdout(
      outcome.ran
        ? `Bacula updated (${outcome.reason}): ${outcome.commands.join("; ")}\n`
        : `nothing to do: ${outcome.reason}\n`,
    );
  },
});

export async function main(args: string[]): Promise<void> {
  await runCli(command, args, EXIT_STATUS);
}
