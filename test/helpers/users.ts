// The unprivileged user the changer drops to in tests (as the storage daemon's bacula user).
import { tool } from "./run.ts";

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Its primary group's name (useradd --user-group: same as the user). */
  group: string;
}

export const TEST_USER = "magtest";

function lookup(name: string): TestUser | undefined {
  const row = Bun.spawnSync(["getent", "passwd", "--", name], {
    stdout: "pipe",
    stderr: "ignore",
  });
  if (row.exitCode !== 0) return undefined;
  const fields = row.stdout.toString().trim().split(":");
  const gid = Number(fields[3]);
  const group = Bun.spawnSync(["getent", "group", String(gid)], {
    stdout: "pipe",
    stderr: "ignore",
  });
  return {
    name,
    uid: Number(fields[2]),
    gid,
    group: group.stdout.toString().split(":")[0] || String(gid),
  };
}

/** The users this test run created, removed by removeCreatedTestUsers (test/preload.ts). */
const created = new Set<string>();

/** The test user, created (as a system user without home or shell) when missing. Needs root. */
export function ensureTestUser(name = TEST_USER): TestUser {
  const existing = lookup(name);
  if (existing) return existing;
  created.add(name);
  tool(
    [
      "useradd",
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      name,
    ],
    {
      okCodes: [0, 9],
    },
  );
  const user = lookup(name);
  if (!user) throw new Error(`useradd ${name} did not create the user`);
  return user;
}

/**
 * userdel of every user ensureTestUser created in this run (its user group goes with it); a
 * user that still runs a process is named, not killed. A user that was there before the run stays.
 */
export function removeCreatedTestUsers(): void {
  for (const name of created) {
    const r = Bun.spawnSync(["userdel", "--", name], {
      stdout: "ignore",
      stderr: "pipe",
    });
    if (r.exitCode === 0 || r.exitCode === 6) created.delete(name);
    else
      console.warn(
        `test user ${name} left behind: userdel exit ${r.exitCode}: ${r.stderr.toString().trim()}`,
      );
  }
}
