// The work dir as the run-as user meets it: there, a real directory reached through no planted
// link, writable, with nothing in it that user cannot write, and with space that user can use.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { refuseUntrustedLinks } from "../state/owned-dir.ts";
import { statOrUndefined } from "../state/safe-fs.ts";
import { filesystemSpace } from "../system/ext4.ts";
import { formatBytes } from "../text.ts";
import { denied, ownershipFix, R, W, X, type Who } from "./access.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import { type DoctorContext, setupCommand } from "./context.ts";

/** Less free space than this for the run-as user and state writes are about to fail. */
const MIN_WORK_DIR_BYTES = 1024 * 1024;

export function checkWorkDir(ctx: DoctorContext): Check[] {
  const problem = unusableWorkDir(ctx);
  if (problem) return [problem];
  const who = ctx.who as Who;
  const dir = ctx.config.work_dir;
  const checks: Check[] = [];
  const stuck = stuckEntries(
    dir,
    who,
    `${ctx.config.user}:${ctx.config.group}`,
  );
  if (stuck) checks.push(stuck);
  // The figures the bay check and `magazine list` print: one computation (filesystemSpace).
  const space = filesystemSpace(dir, ctx.sys.mounts());
  const usable = who.uid === 0 ? space.freeBytes : space.availableBytes;
  const reserved = space.reservedBytes;
  if (usable < MIN_WORK_DIR_BYTES) {
    const trap =
      who.uid !== 0 && reserved > 0
        ? `; ${formatBytes(reserved)} more are reserved for root, which ${who.name} cannot use`
        : "";
    checks.push(
      fail(
        "work dir space",
        `${formatBytes(usable)} free for ${who.name} on the filesystem of ${dir}${trap}`,
        `free space on that filesystem, or move work_dir`,
      ),
    );
  }
  if (!checks.length)
    checks.push(
      ok(
        "work dir",
        `${dir} is writable by ${who.name}, ${formatBytes(usable)} free for it`,
      ),
    );
  return checks;
}

/** Why nothing more can be judged: missing, no directory, a planted link, no user, no access. */
function unusableWorkDir(ctx: DoctorContext): Check | undefined {
  const { config, who } = ctx;
  const dir = config.work_dir;
  const owner = `${config.user}:${config.group}`;
  const stats = statOrUndefined(dir);
  if (!stats)
    return fail(
      "work dir",
      `${dir} does not exist`,
      ownershipFix(
        dir,
        `${setupCommand(ctx)} (creates it owned by ${owner}), or mkdir -m 0750 ${dir}; chown ${owner} ${dir}`,
      ),
    );
  if (!stats.isDirectory())
    return fail(
      "work dir",
      `${dir} is not a directory`,
      `move it away, then ${setupCommand(ctx)}`,
    );
  // A work dir that is (or is reached through) a link others planted: say so, and list nothing
  // of wherever it leads (root would print the names of its files).
  try {
    refuseUntrustedLinks(dir);
  } catch (error) {
    const at = (error as { path?: string }).path ?? dir;
    return fail(
      "work dir",
      `${dir} is reached through ${at}, a symbolic link others may have planted`,
      `remove it (rm ${at}), then ${setupCommand(ctx)}`,
    );
  }
  if (!who)
    return warn(
      "work dir",
      `${dir} exists; its access cannot be judged without the run-as user`,
      "fix the run-as user first",
    );
  const why = denied(dir, who, R | W | X);
  if (why)
    return fail(
      "work dir",
      why,
      ownershipFix(dir, `chown ${owner} ${dir}; chmod 0750 ${dir}`),
    );
  return undefined;
}

/** A state file left by a run as root (user = "root" once, a manual test) blocks every later write. */
function stuckEntries(dir: string, who: Who, owner: string): Check | undefined {
  const stuck = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() || e.isDirectory())
    .map((e) => join(dir, e.name))
    .filter((path) => denied(path, who, R | W));
  if (!stuck.length) return undefined;
  return fail(
    "work dir",
    `${who.name} cannot write ${stuck.slice(0, 3).join(", ")}${stuck.length > 3 ? " ..." : ""}`,
    ownershipFix(dir, `chown -R ${owner} ${dir}`),
  );
}
