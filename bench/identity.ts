// Who the measured processes run as. By default whoever runs the bench (its user and group go
// into the config). With `--as USER[:GROUP]` (as root) they run as that user, as the storage
// daemon runs the changer (Debian: bacula:tape): that is the path a non-root caller takes,
// e.g. the validated-config cache that root never trusts.

export interface RunAs {
  user: string;
  group: string;
  /** Set only when the processes must switch to another identity. */
  ids?: { uid: number; gid: number };
}

function id(args: string[]): string {
  const result = Bun.spawnSync(["id", ...args], { stderr: "pipe" });
  if (result.exitCode !== 0)
    throw new Error(`id ${args.join(" ")}: ${result.stderr.toString().trim()}`);
  return result.stdout.toString().trim();
}

function groupId(group: string): number {
  const result = Bun.spawnSync(["getent", "group", group]);
  const gid = Number(result.stdout.toString().split(":")[2]);
  if (result.exitCode !== 0 || !Number.isInteger(gid))
    throw new Error(`--as: no group "${group}"`);
  return gid;
}

export function resolveRunAs(spec: string | undefined): RunAs {
  if (spec === undefined) return { user: id(["-un"]), group: id(["-gn"]) };
  if (process.getuid?.() !== 0)
    throw new Error(
      "--as needs root (the bench switches the measured processes to that user)",
    );
  const [user = "", groupSpec] = spec.split(":");
  const group = groupSpec || id(["-gn", "--", user]);
  return {
    user,
    group,
    ids: { uid: Number(id(["-u", "--", user])), gid: groupId(group) },
  };
}

/** Bun.spawnSync options that run a child as runAs. */
export function spawnIds(runAs: RunAs | undefined): {
  uid?: number;
  gid?: number;
} {
  return runAs?.ids ? { uid: runAs.ids.uid, gid: runAs.ids.gid } : {};
}
