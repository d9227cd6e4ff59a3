// What makes a set of [[magazine]] bays a layout autofs and unlock can serve: a second LUKS bay
// below the autofs dir needs a mapping name of its own (else two disks would race for one
// /dev/mapper name and one would be refused), and a mapper anywhere else would name a mapping
// nothing mounts. Checked on the schema's output, so every default is applied.
import { basename, dirname, resolve } from "node:path";
import { type BayLayoutInput, keyBay } from "./bays.ts";
import { AUTOFS_KEY_PATTERN } from "./schema-patterns.ts";

export interface BayIssue {
  path: (string | number)[];
  message: string;
}

export function bayIssues(
  config: BayLayoutInput & { legacy?: unknown },
): BayIssue[] {
  const first = keyBay(config);
  const issues: BayIssue[] = [];
  const named = new Map<string, number>();
  for (const [i, spec] of config.magazine.entries()) {
    const at = (...rest: string[]) => ["magazine", i, ...rest];
    const path = spec.path === undefined ? undefined : resolve(spec.path);
    const below =
      first !== undefined &&
      path !== undefined &&
      i + 1 !== first.bay &&
      dirname(path) === first.mountDir;
    const where = first
      ? `the autofs dir ${first.mountDir} (where automap.key's bay ${first.path} is)`
      : "";
    if (spec.mapper === undefined) {
      // A vchanger config is a drop-in: its bays are mounted the way they were under vchanger.
      if (below && config.automap.luks && config.legacy === undefined)
        issues.push({
          path: at(),
          message: `${path} is a second bay below ${where}, so its disk needs a mapping name of its own: add mapper = "${config.luks.mapper}${i + 1}" (a device-mapper name no other bay of this changer uses), or move the bay out of ${first.mountDir}`,
        });
      continue;
    }
    const problem = mapperProblem(config, spec.mapper, path, i, named, where);
    if (problem) {
      issues.push({ path: at("mapper"), message: problem });
      continue;
    }
    if (path !== undefined && !AUTOFS_KEY_PATTERN.test(basename(path)))
      issues.push({
        path: at("path"),
        message: `${JSON.stringify(basename(path))}, the last component of a bay below the autofs dir, is its autofs key: use 1..64 letters, digits, "_", ".", "-"`,
      });
    named.set(spec.mapper, i);
  }
  return issues;
}

function mapperProblem(
  config: BayLayoutInput,
  mapper: string,
  path: string | undefined,
  i: number,
  named: ReadonlyMap<string, number>,
  where: string,
): string | undefined {
  const first = keyBay(config);
  if (path === undefined)
    return "only a path bay below the autofs dir has a mapper (a uuid or label magazine is found by its filesystem); remove it";
  if (!config.automap.luks)
    return "a bay's mapper names the LUKS mapping autofs mounts, but automap.luks = false; remove mapper (or set automap.luks = true)";
  if (!first)
    return `no [[magazine]] path ends in /${config.automap.key} (automap.key), so autofs mounts no bay of this changer; remove mapper, or add that bay first`;
  if (i + 1 === first.bay)
    return `this is automap.key's bay, whose disk is opened as luks.mapper (${JSON.stringify(config.luks.mapper)}); remove mapper here (or set [luks] mapper)`;
  if (dirname(path) !== first.mountDir)
    return `${path} is not directly below ${where}, so autofs never mounts it; move the bay to ${first.mountDir}/${basename(path)} or remove mapper`;
  if (mapper === config.luks.mapper)
    return `${JSON.stringify(mapper)} is luks.mapper, the name of bay ${first.bay}'s disk; give this bay a name of its own, e.g. mapper = "${config.luks.mapper}${i + 1}"`;
  const other = named.get(mapper);
  if (other !== undefined)
    return `${JSON.stringify(mapper)} is the mapper of magazine[${other + 1}] already; give each bay a name of its own`;
  return undefined;
}
