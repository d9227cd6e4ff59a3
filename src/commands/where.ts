// `magchanger where -c CONF VOLUME [--json]`: which disk holds a volume, and whether it is in.
import { formatLocation, whereIsVolume } from "../bacula/where.ts";
import { CONFIG_OPTION, defineCommand, JSON_OPTION } from "./cli.ts";
import { writeJson, writeText } from "../system/fd-write.ts";
import { openChanger } from "./context.ts";

export interface WhereOptions {
  config: string;
  volume: string;
  json: boolean;
}

export async function runWhere(opts: WhereOptions): Promise<void> {
  const location = await whereIsVolume(openChanger(opts.config), opts.volume);
  if (opts.json) writeJson(location);
  else writeText(1, formatLocation(location));
}

export const command = defineCommand({
  name: "where",
  summary:
    "Which magazine (by name) holds VOLUME, its slot, and whether that disk is attached (reads only).",
  options: {
    config: CONFIG_OPTION,
    json: JSON_OPTION,
  },
  positionals: [{ name: "VOLUME", description: "the volume name (barcode)" }],
  exitStatus: [
    [0, "found: attached or in the drawer"],
    [1, "not a volume of this changer"],
    2,
    3,
    6,
    7,
    9,
  ],
  run: ({ options, positionals: [volume] }) =>
    runWhere({
      config: options.config,
      volume: volume as string,
      json: options.json,
    }),
});
