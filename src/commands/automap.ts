// magchanger automap: the autofs program map, run on every lookup under the mount point, so it
// loads nothing it does not need (no citty, no consola, no log file: autofs logs its stderr).
// stdout carries exactly one map entry line, or nothing.
import { basename } from "node:path";
import { isAutomapName } from "../argv0.ts";
import { automapConfig } from "../automap/discover.ts";
import { mapEntry } from "../automap/resolve.ts";
import { UsageError } from "../errors.ts";
import { realSystem } from "../system/system.ts";
import { parseStrict } from "../unlock/args.ts";
import { isBlockDevice } from "../unlock/device.ts";
import { writeStdout } from "./context.ts";

export const HELP = `Usage: magchanger automap [-c CONF] KEY
       /etc/auto.CHANGER KEY          (a symlink to magchanger: how autofs runs it)

Prints the autofs map entry for KEY, e.g.
  -fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/mapper/bacula
KEY is [automap] key (default "magazine"): the unlocked LUKS disk /dev/mapper/<luks.mapper>,
else the filesystem with [automap] label or uuid (found with blkid); or the label or uuid of
a [[magazine]]. autofs master entry:
  /mnt/usbchanger1  program:/etc/auto.usbchanger1  --timeout=10

Config: -c CONF; through a link named auto.CHANGER, $MAGCHANGER_CONFIG_DIR/CHANGER.toml
(default /etc/magchanger/CHANGER.toml); otherwise the config in that directory that answers KEY.

Exit status: 0 entry printed; 1 unknown key or disk absent (autofs: ENOENT); 2 usage; 3 config;
8 blkid failed.
`;

export async function main(args: string[]): Promise<void> {
  const argv0 = process.argv0;
  let key: string;
  let explicit: string | undefined;
  if (isAutomapName(argv0)) {
    // autofs runs `map KEY`: the key is data, never an option.
    if (args.length !== 1 || !args[0])
      throw new UsageError(
        `${basename(argv0)}: expected exactly one KEY (autofs runs it as "map KEY")`,
      );
    key = args[0];
  } else {
    const parsed = parseStrict("automap", args, {
      config: { type: "string", short: "c" },
      help: { type: "boolean", short: "h" },
    });
    if (parsed.values.help) {
      process.stdout.write(HELP);
      return;
    }
    const [first, ...extra] = parsed.positionals;
    if (!first || extra.length > 0)
      throw new UsageError(
        "automap: expected exactly one KEY; see magchanger automap --help",
      );
    key = first;
    explicit = parsed.values.config;
  }
  const config = automapConfig({
    explicit,
    argv0,
    key,
    cwd: process.cwd(),
    env: process.env,
  });
  const sys = realSystem(config.tools);
  const entry = await mapEntry(config, key, {
    findFilesystem: sys.findFilesystem,
    isBlockDevice,
  });
  writeStdout(`${entry}\n`);
}
