// Which bays autofs mounts and which /dev/mapper name each one's disk is opened under, read
// from the [[magazine]] paths, automap.key and luks.mapper. Imports nothing of config/: the
// schema (schema-bays.ts) checks a config with it before it is a Config.
import { basename, dirname, resolve } from "node:path";

/** What the bays' layout is read from: a validated Config, or the schema's output being checked. */
export interface BayLayoutInput {
  magazine: readonly {
    path?: string | undefined;
    mapper?: string | undefined;
  }[];
  automap: { key: string; luks: boolean };
  luks: { mapper: string };
}

/** A bay autofs mounts: a path directly below the autofs mount dir, its last component the key. */
export interface AutofsBay {
  /** Its [[magazine]] number (1-based). */
  bay: number;
  mountDir: string;
  key: string;
  path: string;
  /** The /dev/mapper name its disk is opened under: luks.mapper for automap.key's bay. */
  mapper: string;
}

/** automap.key's bay: the first [[magazine]] path whose last component is automap.key. */
export function keyBay(config: BayLayoutInput): AutofsBay | undefined {
  for (const [i, spec] of config.magazine.entries()) {
    if (spec.path === undefined) continue;
    const path = resolve(spec.path);
    if (path !== "/" && basename(path) === config.automap.key)
      return {
        bay: i + 1,
        mountDir: dirname(path),
        key: config.automap.key,
        path,
        mapper: config.luks.mapper,
      };
  }
  return undefined;
}

/**
 * The bays autofs mounts, automap.key's first: the autofs master entry's one mount dir is that
 * bay's directory, and with LUKS every other path bay there that names its own mapper is a bay
 * too, answering its last component (the program map answers every key of that dir).
 */
export function autofsBays(config: BayLayoutInput): AutofsBay[] {
  const first = keyBay(config);
  if (!first) return [];
  const bays = [first];
  if (!config.automap.luks) return bays;
  for (const [i, spec] of config.magazine.entries()) {
    if (spec.path === undefined || spec.mapper === undefined) continue;
    const path = resolve(spec.path);
    if (i + 1 === first.bay || dirname(path) !== first.mountDir) continue;
    bays.push({
      bay: i + 1,
      mountDir: first.mountDir,
      key: basename(path),
      path,
      mapper: spec.mapper,
    });
  }
  return bays;
}

/**
 * The /dev/mapper names unlock may open this changer's disks under, in the order it tries them:
 * luks.mapper, then each further autofs bay's mapper. Without LUKS bays: luks.mapper alone.
 */
export function luksMappers(
  config: BayLayoutInput,
): { name: string; bay?: AutofsBay }[] {
  const bays = config.automap.luks ? autofsBays(config) : [];
  if (bays.length === 0) return [{ name: config.luks.mapper }];
  return bays.map((bay) => ({ name: bay.mapper, bay }));
}
