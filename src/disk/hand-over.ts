// As root, before `magazine init` or INITMAG drop privileges: the seed's `chown bacula:tape
// MOUNT`, and the work dir and log dir the first magazine needs before `setup --write` ran. A
// bay's parent, the work dir's and the log dir's may belong to the run-as user, who could have
// planted a link there: nothing is followed that root does not own in a root-only directory,
// and owners are set through the open fd (state/owned-dir.ts), never by path.
import { dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { AppError, errnoCode } from "../errors.ts";
import { ensureOwnedDirectory } from "../state/owned-dir.ts";
import type { Owner } from "../state/safe-fs.ts";
import { lookupGroup, lookupUser } from "../system/identity.ts";
import { printable } from "../text.ts";

function refusal(what: string, path: string, error: unknown): AppError {
  const message = printable((error as Error).message ?? String(error));
  const fix =
    errnoCode(error) === "ELOOP"
      ? `remove the link and make ${path} a real directory`
      : `fix ${path} and retry`;
  return new AppError(
    `cannot hand ${what} ${path} to the run-as user: ${message}; ${fix}`,
    {
      cause: error,
    },
  );
}

/**
 * Hands the bay at mountPoint (and, when missing, the changer's work dir and log dir) to the
 * run-as user and group. Does nothing unless root; an unknown user or group is left to the
 * privilege drop that follows, which fails with the reason.
 */
export function handBayToRunAs(
  config: Pick<Config, "work_dir" | "log_file">,
  mountPoint: string,
  runAs: { user: string; group: string },
  options: { dirs: boolean },
): void {
  if (process.getuid?.() !== 0) return;
  const user = lookupUser(runAs.user);
  const group = lookupGroup(runAs.group);
  if (!user || !group) return;
  const owner: Owner = { uid: user.uid, gid: group.gid };
  try {
    ensureOwnedDirectory(mountPoint, 0o755, owner, { claimExisting: true });
  } catch (error) {
    throw refusal("bay", mountPoint, error);
  }
  if (!options.dirs) return;
  for (const dir of [config.work_dir, dirname(config.log_file)]) {
    try {
      ensureOwnedDirectory(dir, 0o750, owner);
    } catch (error) {
      throw refusal("directory", dir, error);
    }
  }
}
