// What the run-as user may do with a path, judged from owner, group and mode bits along the whole
// path (plus a read-only mount): doctor runs as root, but the storage daemon runs as bacula.
// ACLs are not consulted.
import {
  accessSync,
  constants,
  lstatSync,
  type Stats,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import { errnoCode } from "../errors.ts";
import { refuseUntrustedLinks } from "../state/owned-dir.ts";
import { memberGroups, nssGroups } from "../system/identity.ts";

export interface Who {
  name: string;
  uid: number;
  gids: number[];
}

export const R = 4;
export const W = 2;
export const X = 1;

/**
 * The groups the changer runs with, as dropPrivileges sets them: initgroups(user, group) gives the
 * configured group plus every group NSS lists the user in (/etc/group, LDAP), and the drop then
 * adds the user's primary group from passwd (Debian's bacula:tape keeps group bacula, so it may
 * read root:bacula 0640 bconsole.conf).
 */
export function runAsGroups(
  user: string,
  group: number,
  primary: number,
  groupFile = "/etc/group",
  nss: (user: string) => number[] = nssGroups,
): number[] {
  return [...new Set([group, primary, ...memberGroups(user, groupFile, nss)])];
}

export function modeAllows(stats: Stats, who: Who, want: number): boolean {
  if (who.uid === 0)
    return (
      (want & X) === 0 || stats.isDirectory() || (stats.mode & 0o111) !== 0
    );
  if (stats.uid === who.uid) return ((stats.mode >> 6) & want) === want;
  if (who.gids.includes(stats.gid)) return ((stats.mode >> 3) & want) === want;
  return (stats.mode & want) === want;
}

/** Why who cannot reach path with the wanted access, or undefined when it can. */
export function denied(
  path: string,
  who: Who,
  want: number,
): string | undefined {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    try {
      if (!modeAllows(statSync(dir), who, X))
        return `${who.name} cannot enter ${dir}`;
    } catch (error) {
      return `cannot stat ${dir}: ${errnoCode(error) ?? error}`;
    }
    if (dir === "/") break;
  }
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    return `cannot stat ${path}: ${errnoCode(error) ?? error}`;
  }
  if (!modeAllows(stats, who, want)) {
    const what = [want & R ? "read" : "", want & W ? "write" : ""]
      .filter(Boolean)
      .join(" or ");
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, "0");
    return `${who.name} cannot ${what || "use"} ${path} (owner uid ${stats.uid}, gid ${stats.gid}, mode ${mode})`;
  }
  if (want & W) {
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      if (errnoCode(error) === "EROFS")
        return `${path} is on a read-only filesystem`;
    }
  }
  return undefined;
}

/**
 * The advice for a path that is a symbolic link, or undefined when it is none: chown and chmod
 * follow a link, so telling root to run them on one (planted by the run-as user, say) would
 * change whatever it points to.
 */
export function linkAdvice(path: string): string | undefined {
  try {
    if (lstatSync(path).isSymbolicLink())
      return `${path} is a symbolic link: never change its owner or mode (that changes what it points to); remove it (rm ${path}) and create the real file or directory`;
  } catch {
    // nothing there: no link
  }
  // A link on the way (a log dir planted as a link) would take a chown of path elsewhere too.
  try {
    refuseUntrustedLinks(dirname(path));
  } catch (error) {
    const at = (error as { path?: string }).path ?? dirname(path);
    return `${at} is a symbolic link others may have planted, and a chown of ${path} would follow it: never change owners through it; remove it (rm ${at}) and create the real directory`;
  }
  return undefined;
}

/** fix (a chown or chmod of path), unless path is a symbolic link: then linkAdvice. */
export function ownershipFix(path: string, fix: string): string {
  return linkAdvice(path) ?? fix;
}
