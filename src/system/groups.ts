// The run-as user's supplementary groups without initgroups(3), where that gives the same set.
// initgroups asks every NSS source in nsswitch.conf's `group:` line; with Debian's default
// `files systemd` that means loading libnss_systemd (and libcap), probing the userdb drop-in
// directories and connecting to systemd's userdb sockets: ~4 ms of a root protocol call here,
// more than everything else the call does. When the answer can only come from /etc/group, it
// is read from there:
// - the `group:` line lists `files`, optionally followed by `systemd`, and nothing else (no
//   LDAP/SSS/NIS source, no [action] items);
// - with `systemd`: no userdb drop-in directory exists (JSON membership records live there),
//   and the user's uid is below systemd's homed/dynamic/container ranges (60001 and up), the
//   only users its userdb services add memberships for;
// - the user itself is a /etc/passwd user.
// Anything else returns undefined and the caller uses initgroups. Getting this wrong could only
// ever leave out a group (everything here is also in what initgroups reads), never add one.
import { existsSync, readFileSync } from "node:fs";

const USERDB_DIRS = [
  "/etc/userdb",
  "/run/userdb",
  "/run/host/userdb",
  "/usr/local/lib/userdb",
  "/usr/lib/userdb",
];
/** systemd-homed's users start at 60001; DynamicUser and container ranges lie above. */
const SYSTEMD_USERDB_MIN_UID = 60001;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The sources of nsswitch.conf's `group:` line, or undefined when it has action items. */
export function groupSources(nsswitch: string): string[] | undefined {
  let sources: string[] = [];
  for (const raw of nsswitch.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const match = /^group\s*:(.*)$/.exec(line);
    if (!match) continue;
    const words = (match[1] ?? "").trim().split(/\s+/).filter(Boolean);
    if (words.some((w) => w.includes("["))) return undefined;
    sources = words;
  }
  return sources;
}

/** Whether initgroups would consult nothing but /etc/group for this user. */
export function filesAnswerForGroups(
  nsswitch: string | undefined,
  uid: number,
  userdbDirExists: (path: string) => boolean = existsSync,
): boolean {
  // No nsswitch.conf: glibc's default for group is `files` (plus `nis` on old builds): unsure.
  if (nsswitch === undefined) return false;
  const sources = groupSources(nsswitch);
  if (!sources || sources[0] !== "files") return false;
  const rest = sources.slice(1);
  if (rest.length === 0) return true;
  if (rest.length !== 1 || rest[0] !== "systemd") return false;
  return uid < SYSTEMD_USERDB_MIN_UID && !USERDB_DIRS.some(userdbDirExists);
}

/**
 * A uid or gid field as glibc reads it: decimal digits only, below 2^32 - 1. Number() would take
 * "" as 0 (root), "0x1b" as 27 and "1e1" as 10.
 */
export function idField(field: string | undefined): number | undefined {
  if (field === undefined || !/^\d{1,10}$/.test(field)) return undefined;
  const id = Number(field);
  return id < 0xffffffff ? id : undefined;
}

/** The gids of the group file's rows that list user as a member (NIS compat lines skipped). */
export function groupsListing(groupFile: string, user: string): number[] {
  const gids: number[] = [];
  for (const line of groupFile.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 4 || line.startsWith("+") || line.startsWith("-"))
      continue;
    const id = idField(fields[2]);
    if (id !== undefined && (fields[3] ?? "").split(",").includes(user))
      gids.push(id);
  }
  return gids;
}

/** The gids of every /etc/group entry that lists `user` as a member, and `gid` first. */
export function memberGroups(groupFile: string, user: string, gid: number) {
  return [...new Set([gid, ...groupsListing(groupFile, user)])];
}

/**
 * What initgroups(user, gid) would set, read from /etc/group, when nsswitch.conf says only
 * files can answer (see above); undefined when the caller must call initgroups.
 */
export function groupsFromFiles(
  user: string,
  uid: number,
  gid: number,
  inPasswdFile: boolean,
): number[] | undefined {
  if (!inPasswdFile) return undefined;
  if (!filesAnswerForGroups(read("/etc/nsswitch.conf"), uid)) return undefined;
  const groupFile = read("/etc/group");
  return groupFile === undefined
    ? undefined
    : memberGroups(groupFile, user, gid);
}
