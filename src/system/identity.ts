// Run-as identity. When started as root (udev, autofs, a sysadmin), magchanger becomes the
// configured user and group, supplementary groups included, before it touches any state. An
// unknown user or group is an error: never "stay root" (vchanger's defect).
import { existsSync, readFileSync } from "node:fs";
import { PrivilegeError } from "../errors.ts";
import { groupsFromFiles, groupsListing, idField } from "./groups.ts";

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Found in /etc/passwd itself (not through getent's other NSS sources). */
  fromFiles?: boolean;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

/** The first row of a colon-separated account file whose field `field` is `value`. */
function findRow(file: string, value: string, field = 0): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[field] === value) return fields;
  }
  return undefined;
}

const GETENT = "/usr/bin/getent";

/** The PATH every tool magchanger spawns gets, whatever the caller's was. */
export const SAFE_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** getent's output for one database and key, or undefined when it finds nothing or cannot run. */
function runGetent(database: string, key: string): string | undefined {
  // Users from LDAP/NSS are not in /etc/passwd: ask getent, without a shell.
  try {
    // By absolute path: as root, a getent found through PATH could be anyone's.
    const result = Bun.spawnSync([GETENT, database, "--", key], {
      env: { PATH: SAFE_PATH, LANG: "C" },
      cwd: "/",
      timeout: 5000,
      stdout: "pipe",
      stderr: "ignore",
    });
    return result.exitCode === 0 ? result.stdout.toString() : undefined;
  } catch {
    return undefined;
  }
}

function getent(database: string, name: string): string[] | undefined {
  const line = runGetent(database, name)?.split("\n")[0] ?? "";
  return line ? line.split(":") : undefined;
}

export function lookupUser(name: string): UserEntry | undefined {
  const local = findRow("/etc/passwd", name);
  const row = local ?? getent("passwd", name);
  if (!row || row.length < 7) return undefined;
  // A malformed id must not become 0: the process would stay root and pass every check.
  const uid = idField(row[2]);
  const gid = idField(row[3]);
  if (uid === undefined || gid === undefined)
    throw new PrivilegeError(
      `the passwd entry of ${name} has uid ${JSON.stringify(row[2])} and gid ${JSON.stringify(row[3])}, not plain numbers; fix it in /etc/passwd (or the directory it comes from)`,
    );
  return {
    name,
    uid,
    gid,
    home: row[5] ?? "/",
    fromFiles: local !== undefined,
  };
}

export function lookupGroup(name: string): GroupEntry | undefined {
  const row = findRow("/etc/group", name) ?? getent("group", name);
  if (!row || row.length < 3) return undefined;
  const gid = idField(row[2]);
  if (gid === undefined)
    throw new PrivilegeError(
      `the group entry of ${name} has gid ${JSON.stringify(row[2])}, not a plain number; fix it in /etc/group (or the directory it comes from)`,
    );
  return { name, gid };
}

/** A group's name from its gid (/etc/group, then NSS: LDAP groups too); the number if none. */
export function groupNameOf(gid: number, groupFile = "/etc/group"): string {
  const row =
    findRow(groupFile, String(gid), 2) ?? getent("group", String(gid));
  return row?.[0] || String(gid);
}

/** `getent initgroups USER`: "USER gid gid ...", the groups every NSS source gives the user. */
export function nssGroups(user: string): number[] {
  return (runGetent("initgroups", user) ?? "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .filter((g) => /^\d+$/.test(g))
    .map(Number);
}

/**
 * The supplementary groups user is a member of: those NSS lists (LDAP included) and the rows of
 * the group file that name the user.
 */
export function memberGroups(
  user: string,
  groupFile = "/etc/group",
  nss: (user: string) => number[] = nssGroups,
): number[] {
  const gids = new Set(nss(user));
  let text = "";
  try {
    text = readFileSync(groupFile, "utf8");
  } catch {
    // no group file: NSS is what we know
  }
  for (const gid of groupsListing(text, user)) gids.add(gid);
  return [...gids];
}

let runAsHome: string | undefined;

/**
 * HOME for the tools magchanger spawns: the run-as user's home from passwd after the drop (or /
 * when it does not exist), / for root, the caller's own otherwise; never root's HOME inherited
 * by a process that dropped privileges.
 */
export function toolHome(): string {
  if (runAsHome !== undefined) return runAsHome;
  if (process.getuid?.() === 0) return "/";
  return process.env.HOME || "/";
}

export interface RunAs {
  user: string;
  group: string;
}

/**
 * Becomes user:group when running as root. Returns what was done, for the log. A non-root
 * caller keeps its own identity (it cannot switch); the state files it writes are its own.
 */
export function dropPrivileges(runAs: RunAs): string {
  if (process.getuid?.() !== 0)
    return `running as uid ${process.getuid?.()} (not root: no switch)`;
  const user = lookupUser(runAs.user);
  if (!user) {
    throw new PrivilegeError(
      `run-as user "${runAs.user}" does not exist; create it (e.g. install bacula-sd) or set user = "..." in the config`,
    );
  }
  const group = lookupGroup(runAs.group);
  if (!group) {
    throw new PrivilegeError(
      `run-as group "${runAs.group}" does not exist; create it or set group = "..." in the config`,
    );
  }
  if (user.uid === 0 && group.gid === 0) return "running as root (configured)";
  try {
    // initgroups with an unknown user silently sets groups [0]: the user was looked up above.
    // Where only /etc/group can answer, it is read directly (system/groups.ts: NSS costs ms).
    const fromFiles = groupsFromFiles(
      user.name,
      user.uid,
      group.gid,
      user.fromFiles === true,
    );
    // The user's own primary group goes in at once (see below): one setgroups, not two.
    if (fromFiles)
      process.setgroups?.(
        fromFiles.includes(user.gid) ? fromFiles : [...fromFiles, user.gid],
      );
    else
      (
        process as unknown as { initgroups(user: string, gid: number): void }
      ).initgroups(user.name, group.gid);
    // initgroups adds the run-as group but not the user's own primary group; Debian's
    // bconsole.conf is root:bacula 0640, so bacula:tape must keep group bacula to run refresh.
    const groups = process.getgroups?.() ?? [];
    if (!groups.includes(user.gid)) process.setgroups?.([...groups, user.gid]);
    process.setgid?.(group.gid);
    process.setuid?.(user.uid);
  } catch (error) {
    throw new PrivilegeError(
      `cannot switch to ${user.name}:${group.name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  runAsHome = existsSync(user.home) ? user.home : "/";
  if (process.getuid?.() !== user.uid || process.getgid?.() !== group.gid) {
    throw new PrivilegeError(
      `switching to ${user.name}:${group.name} did not take effect; refusing to run as root`,
    );
  }
  return `switched to ${user.name}(${user.uid}):${group.name}(${group.gid})`;
}
