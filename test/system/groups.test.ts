// Supplementary groups from /etc/group where NSS could add nothing: the set must be the one
// glibc's own lookup (getgrouplist, through `id -G`) gives, and any source other than files
// (or files plus an empty systemd userdb) must send the caller to initgroups.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  filesAnswerForGroups,
  groupSources,
  memberGroups,
} from "../../src/system/groups.ts";
import { lookupUser } from "../../src/system/identity.ts";

const none = () => false;

test("the group: line's sources are read; an [action] item makes it unsure", () => {
  expect(groupSources("passwd: files\ngroup:   files systemd # x\n")).toEqual([
    "files",
    "systemd",
  ]);
  expect(groupSources("group: files [NOTFOUND=return] ldap\n")).toBeUndefined();
  expect(groupSources("# group: ldap\ngroup: files\n")).toEqual(["files"]);
});

test.each([
  ["group: files\n", 102, true],
  ["group: files systemd\n", 102, true],
  ["group: files systemd\n", 60001, false],
  ["group: files ldap\n", 102, false],
  ["group: sss files\n", 102, false],
  ["group: systemd files\n", 102, false],
  ["group: compat\n", 102, false],
  ["passwd: files\n", 102, false],
])("nsswitch %j, uid %d: files alone answer = %p", (text, uid, want) => {
  expect(filesAnswerForGroups(text, uid, none)).toBe(want);
});

test("a userdb drop-in directory or no nsswitch.conf at all sends the caller to initgroups", () => {
  const etcUserdb = (path: string) => path === "/etc/userdb";
  expect(filesAnswerForGroups("group: files systemd\n", 102, etcUserdb)).toBe(
    false,
  );
  // files alone never asks systemd's userdb, whatever is on disk.
  expect(filesAnswerForGroups("group: files\n", 102, etcUserdb)).toBe(true);
  expect(filesAnswerForGroups(undefined, 102, none)).toBe(false);
});

test("memberGroups gives what glibc's getgrouplist gives, for every /etc/passwd user", () => {
  const groupFile = readFileSync("/etc/group", "utf8");
  const users = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":")[0])
    .filter((name): name is string => !!name);
  expect(users.length).toBeGreaterThan(3);
  for (const name of users) {
    const user = lookupUser(name);
    if (!user) continue;
    const id = Bun.spawnSync(["id", "-G", "--", name], { stderr: "pipe" });
    expect(id.exitCode).toBe(0);
    const nss = id.stdout.toString().trim().split(/\s+/).map(Number);
    const ours = memberGroups(groupFile, name, user.gid);
    expect([name, [...ours].sort((a, b) => a - b)]).toEqual([
      name,
      [...new Set(nss)].sort((a, b) => a - b),
    ]);
  }
});

test("memberGroups ignores malformed and NIS compat lines", () => {
  const text = "a:x:5:u\nbroken line\n+:::\nb:x:notanumber:u\nc:x:7:v,u\n";
  expect(memberGroups(text, "u", 1)).toEqual([1, 5, 7]);
});

// glibc skips a line whose gid is not decimal digits; Number() would read "" as 0 (root's
// group), "0x1b" as 27 (sudo on Debian) and "1e1" as 10: a typo in /etc/group must never grant
// a group initgroups would not (found by review: the drop gave [0, 10, 27, ...]).
test("memberGroups grants nothing for a gid that is not plain digits", () => {
  const text =
    "empty:x::u\nhex:x:0x1b:u\nexp:x:1e1:u\nneg:x:-3:u\nspace:x: 9:u\nok:x:12:u\n";
  expect(memberGroups(text, "u", 1)).toEqual([1, 12]);
});
