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

/** The test user, created (as a system user without home or shell) when missing. Needs root. */
export function ensureTestUser(name = TEST_USER): TestUser {
  const existing = lookup(name);
  if (existing) return existing;
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
  const created = lookup(name);
  if (!created) throw new Error(`useradd ${name} did not create the user`);
  return created;
}
