// `magchanger status -c CONF [--json]`: bays, drawer, drives and what Bacula waits for.
import { changerStatus, formatStatus } from "../bacula/status.ts";
import { ToolError } from "../errors.ts";
import { CONFIG_OPTION, defineCommand, JSON_OPTION } from "./cli.ts";
import { writeJson, writeText } from "../system/fd-write.ts";
import { openChanger } from "./context.ts";

export interface StatusOptions {
  config: string;
  json: boolean;
}

export async function runStatus(opts: StatusOptions): Promise<void> {
  const status = await changerStatus(openChanger(opts.config));
  if (opts.json) writeJson(status);
  else writeText(1, formatStatus(status));
  if (status.baculaError !== undefined)
    throw new ToolError(
      `cannot read the storage daemon's status: ${status.baculaError}`,
    );
}

export const command = defineCommand({
  name: "status",
  summary:
    "The bays and the drawer, each drive, and what the storage daemon waits for, with the disk it needs by name.",
  options: {
    config: CONFIG_OPTION,
    json: JSON_OPTION,
  },
  exitStatus: [
    0,
    1,
    2,
    3,
    6,
    7,
    [
      8,
      "the storage daemon's status could not be read through bconsole (everything else is printed first)",
    ],
    9,
  ],
  run: ({ options }) => runStatus(options),
});
