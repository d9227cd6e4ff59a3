// magchanger automap: the autofs program map, run on every lookup under the mount point, so it
// loads nothing it does not need (no citty, no consola, no log file: autofs logs its stderr).
// stdout carries exactly one map entry line, or nothing.
import { basename } from "node:path";
import { automapConfig } from "../automap/discover.ts";
import { mapEntry } from "../automap/resolve.ts";
import { UsageError } from "../errors.ts";
import { realSystem } from "../system/system.ts";
import { isBlockDevice } from "../unlock/device.ts";
import { CONFIG_OPTION, defineCommand } from "./cli.ts";
import { writeProtocol } from "../system/fd-write.ts";

export interface AutomapOptions {
  key: string;
  /** -c CONF; otherwise found from argv0 or the config dir. */
  config?: string | undefined;
  argv0: string;
}

export async function runAutomap(opts: AutomapOptions): Promise<void> {
  const config = automapConfig({
    explicit: opts.config,
    argv0: opts.argv0,
    key: opts.key,
    cwd: process.cwd(),
    env: process.env,
  });
  const sys = realSystem(config.tools);
  const entry = await mapEntry(config, opts.key, {
    findFilesystem: sys.findFilesystem,
    isBlockDevice,
  });
  writeProtocol(`${entry}\n`);
}

/** Run through a link named auto.CHANGER, as autofs does (`map KEY`): the key is data. */
export async function runAsMap(argv0: string, args: string[]): Promise<void> {
  if (args.length !== 1 || !args[0])
    throw new UsageError(
      `${basename(argv0)}: expected exactly one KEY (autofs runs it as "map KEY")`,
    );
  await runAutomap({ key: args[0], argv0 });
}

export const command = defineCommand({
  name: "automap",
  summary: "The autofs program map: print the map entry for KEY.",
  usage: [
    "automap [-c CONF] KEY",
    "/etc/auto.CHANGER KEY   (a link to magchanger: how autofs runs it)",
  ],
  protocol: true,
  options: {
    config: { ...CONFIG_OPTION, required: false },
  },
  positionals: [{ name: "KEY", description: "the key autofs looks up" }],
  description: [
    "Prints the autofs map entry for KEY, e.g.",
    "  -fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/mapper/bacula",
    'KEY is [automap] key (default "magazine"): the unlocked LUKS disk /dev/mapper/<luks.mapper>, else the filesystem with [automap] label or uuid (found with blkid); or the last component of a further bay below the same mount dir: /dev/mapper/<its mapper>; or the label or uuid of a [[magazine]]. autofs master entry:',
    "  /mnt/usbchanger1  program:/etc/auto.usbchanger1  --timeout=10",
    "Config: -c CONF; through a link named auto.CHANGER, $MAGCHANGER_CONFIG_DIR/CHANGER.toml (default /etc/magchanger/CHANGER.toml); otherwise the config in that directory that answers KEY. stdout is autofs's: this help goes to stderr.",
  ],
  exitStatus: [
    [0, "entry printed"],
    [1, "unknown key or disk absent (autofs: ENOENT)"],
    2,
    3,
    [8, "blkid failed"],
  ],
  run: ({ options, positionals: [key] }) =>
    runAutomap({
      key: key as string,
      config: options.config,
      argv0: process.argv0,
    }),
});
