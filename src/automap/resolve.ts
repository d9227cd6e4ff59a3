// An autofs program map answers one key with one entry: "[-options] :DEVICE". autofs needs a
// non-empty line and exit 0; anything else makes the access fail with ENOENT, which is what an
// unknown key or an absent disk should do. Devices are found through /dev/mapper (the disk
// unlock opened) or blkid, never /dev/disk/by-label alone: those links exist only where udev runs.
import { autofsBays } from "../config/layout.ts";
import type { Config } from "../config/schema.ts";
import { AppError } from "../errors.ts";

export interface AutomapDeps {
  /** The device node of a filesystem by UUID or label, undefined when no attached disk has it. */
  findFilesystem(
    by: "uuid" | "label",
    value: string,
  ): Promise<string | undefined>;
  isBlockDevice(path: string): boolean;
}

/** A device path autofs can take as a location: no blanks or characters its map parser treats specially. */
const MAP_DEVICE = /^\/dev(\/[A-Za-z0-9_][A-Za-z0-9_.:+@=-]*)+$/;

/** Unknown key or absent disk: exit 1, nothing on stdout. */
export class NoMapEntryError extends AppError {}

/** The keys config answers: each autofs bay's (automap.key first), then each [[magazine]] label and uuid. */
export function automapKeys(config: Config): string[] {
  const keys = [config.automap.key];
  for (const bay of autofsBays(config).slice(1)) keys.push(bay.key);
  for (const magazine of config.magazine) {
    if (magazine.label !== undefined) keys.push(magazine.label);
    if (magazine.uuid !== undefined) keys.push(magazine.uuid);
  }
  return keys;
}

export function answersKey(config: Config, key: string): boolean {
  return automapKeys(config).some(
    (k) =>
      k === key || (isUuidLike(k) && k.toLowerCase() === key.toLowerCase()),
  );
}

/** The map entry line for key (without newline). */
export async function mapEntry(
  config: Config,
  key: string,
  deps: AutomapDeps,
): Promise<string> {
  const device = await findDevice(config, key, deps);
  if (!MAP_DEVICE.test(device)) {
    throw new NoMapEntryError(
      `automap: ${JSON.stringify(device)} for key "${key}" is not a /dev path autofs can mount; check the disk's label`,
    );
  }
  const { fstype, options } = config.automap;
  return `-fstype=${fstype}${options ? `,${options}` : ""} :${device}`;
}

async function findDevice(
  config: Config,
  key: string,
  deps: AutomapDeps,
): Promise<string> {
  const { automap, luks } = config;
  if (key === automap.key) {
    const tried: string[] = [];
    if (automap.luks) {
      const mapper = `/dev/mapper/${luks.mapper}`;
      if (deps.isBlockDevice(mapper)) return mapper;
      tried.push(`${mapper} is not open`);
    }
    if (automap.label !== undefined) {
      const found = await deps.findFilesystem("label", automap.label);
      if (found) return found;
      tried.push(`no attached filesystem has label "${automap.label}"`);
    }
    if (automap.uuid !== undefined) {
      const found = await deps.findFilesystem("uuid", automap.uuid);
      if (found) return found;
      tried.push(`no attached filesystem has UUID ${automap.uuid}`);
    }
    if (tried.length === 0) {
      throw new NoMapEntryError(
        `automap: key "${key}" has nothing to mount: [automap] luks = false and no label or uuid in ${config.source}`,
      );
    }
    throw new NoMapEntryError(
      `automap: no disk for "${key}": ${tried.join(", ")}; attach (and unlock) the disk, then retry`,
    );
  }
  // A further bay's disk is the one unlock opened under its mapper; nothing else is looked for.
  const bay = autofsBays(config)
    .slice(1)
    .find((b) => b.key === key);
  if (bay) {
    const mapper = `/dev/mapper/${bay.mapper}`;
    if (deps.isBlockDevice(mapper)) return mapper;
    throw new NoMapEntryError(
      `automap: no disk for "${key}": ${mapper} is not open; attach the disk (udev unlocks it), then retry`,
    );
  }
  for (const magazine of config.magazine) {
    if (magazine.label === key) {
      const found = await deps.findFilesystem("label", key);
      if (found) return found;
      throw new NoMapEntryError(
        `automap: no disk for "${key}": no attached filesystem has label "${key}"; attach the disk, then retry`,
      );
    }
    if (
      magazine.uuid !== undefined &&
      magazine.uuid.toLowerCase() === key.toLowerCase()
    ) {
      const found = await deps.findFilesystem("uuid", magazine.uuid);
      if (found) return found;
      throw new NoMapEntryError(
        `automap: no disk for "${key}": no attached filesystem has UUID ${magazine.uuid}; attach the disk, then retry`,
      );
    }
  }
  throw new NoMapEntryError(
    `automap: unknown key ${JSON.stringify(key.slice(0, 80))}; ${config.source} answers ${automapKeys(
      config,
    )
      .map((k) => `"${k}"`)
      .join(", ")}`,
  );
}

function isUuidLike(value: string): boolean {
  return /^[0-9A-Fa-f-]+$/.test(value);
}
