// Hard links on a magazine: one file under two legal names is one volume (issue 10, item 13).
import { lstatSync } from "node:fs";
import { join } from "node:path";

/**
 * New volume names that are hard links of another volume on the same magazine (same device
 * and inode): name -> the name it duplicates. Only the new names are stat'ed, and the others
 * only when one of them has more than one link, so a steady scan costs no stat (property 8).
 * `known` names win; among new names the first in the given order does.
 */
export function hardLinkTwins(
  mountPoint: string,
  fresh: string[],
  known: string[],
): Map<string, string> {
  const twins = new Map<string, string>();
  const linked = fresh.filter((name) => linkCount(join(mountPoint, name)) > 1);
  if (linked.length === 0) return twins;
  const owner = new Map<string, string>();
  for (const name of [...known, ...fresh]) {
    const key = fileKey(join(mountPoint, name));
    if (key === undefined) continue;
    const first = owner.get(key);
    if (first === undefined) owner.set(key, name);
    else if (!known.includes(name)) twins.set(name, first);
  }
  return twins;
}

function linkCount(path: string): number {
  try {
    return lstatSync(path).nlink;
  } catch {
    return 0;
  }
}

function fileKey(path: string): string | undefined {
  try {
    const st = lstatSync(path, { bigint: true });
    return st.isFile() ? `${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}
