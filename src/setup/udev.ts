// The udev rule that replaces the seed's `ACTION=="add",BUS=="usb",KERNEL=="sd?1",RUN+=...`.
import type { Config } from "../config/schema.ts";

/** What the Pool and example Job need of the Director's config (setup/bacula-jobs.ts). */
export interface JobsInput {
  /** The Director's config as read (bacula/director.ts), when setup could read it. */
  director:
    | { file: string; clients: string[]; pools: string[]; messages: string[] }
    | undefined;
  /** The Client the example backs up; undefined: the example is written commented out. */
  client: string | undefined;
}

export interface GenerateOptions {
  config: Config;
  /** The config file as the live system sees it (Changer Device, comments). */
  configPath: string;
  /** The magchanger binary the generated files run. */
  binary: string;
  /** Bacula Media Type shared by the SD's drives and the Director's Storage. */
  mediaType: string;
  /** What the Pool and example Job need of the Director's config (none: the example is commented out). */
  jobs?: JobsInput;
  /** The Storage's Address and Password as the admin filled them in: kept by a rewrite. */
  filled?: { address?: string; password?: string };
  /** Man pages and completion by install path (the build's: commands/installed-docs.ts). */
  docs?: Record<string, string>;
}

export function generatedBy(o: GenerateOptions, comment = "#"): string {
  return `${comment} Written by \`magchanger setup -c ${o.configPath} --write\`; the next --write replaces it
${comment} (keeping the previous version as FILE.magchanger-bak). Change the config, not this file.
`;
}

export function udevRule(o: GenerateOptions): string {
  const { config, binary } = o;
  const mapper = config.luks.mapper;
  // allowed_uuids narrows the rule itself, so two changers never race for one disk.
  const uuids = config.luks.allowed_uuids.length
    ? `, ENV{ID_FS_UUID}=="${config.luks.allowed_uuids.join("|")}"`
    : "";
  return `# magchanger changer "${config.name}": open a LUKS disk attached by USB as /dev/mapper/${mapper}
# with the key file ${config.luks.key_file}, and close that mapping when the disk is pulled.
${generatedBy(o)}#
# Named 90-* so it runs after 60-persistent-storage.rules, which sets the ID_* properties matched
# here. udev forbids mounts from RUN+= and kills it after 180 s: unlock only opens the disk
# (seconds); autofs mounts it on first access. A repeated add/change of an open disk is a no-op.
# On remove the parent devices are gone from sysfs, so SUBSYSTEMS=="usb" cannot match there:
# ID_BUS comes from udev's database instead.
ACTION=="add|change", SUBSYSTEMS=="usb", SUBSYSTEM=="block", ENV{ID_FS_TYPE}=="crypto_LUKS"${uuids}, RUN+="${binary} unlock /dev/%k ${mapper}"
ACTION=="remove", SUBSYSTEM=="block", ENV{ID_BUS}=="usb", ENV{ID_FS_TYPE}=="crypto_LUKS"${uuids}, RUN+="${binary} unlock --remove /dev/%k ${mapper}"
`;
}
