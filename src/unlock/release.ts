// Releasing a mapping whose disk went: lazily unmount what is still mounted from it (where this
// process reaches the host's mount table, and only by a path root alone controls), then close it,
// or have the kernel remove it once its last holder lets go. release-stale, which the refresh
// units run outside udev's sandbox, does that for each of the changer's mappings whose disk is gone.
import { readFileSync } from "node:fs";
import { luksMappers } from "../config/layout.ts";
import type { Config } from "../config/schema.ts";
import { AppError, describeErrno } from "../errors.ts";
import { mountPathRisk } from "../state/safe-fs.ts";
import { type Cryptsetup, cryptsetup } from "../system/cryptsetup.ts";
import { dmMapping, hasBlockSysfs } from "../system/dm.ts";
import { lastLines } from "../text.ts";
import { describeGone, diskGone, ownedOrRefuse } from "./mapping.ts";
import { mountsOfMapping, mountsUnreachable } from "./mounts.ts";
import type { UnlockDeps } from "./deps.ts";

const UMOUNT_TIMEOUT_MS = 15_000;

/**
 * Lazily unmounts what is mounted from /dev/mapper/name (where this process can reach the host's
 * mount table), then closes it; if it is still held, asks the kernel to remove it when the last
 * holder lets go. Says on the log what it did and what it could not do.
 */
export async function releaseMapping(
  crypt: Cryptsetup,
  umount: string,
  name: string,
  deps: UnlockDeps,
): Promise<"closed" | "deferred" | "busy"> {
  const { log } = deps;
  await unmountMapping(umount, name, deps);
  const closed = await crypt.close(name);
  if (closed !== "busy") {
    log.info(
      closed === "closed"
        ? `closed /dev/mapper/${name}`
        : `/dev/mapper/${name} was already gone`,
    );
    return "closed";
  }
  const deferred = await crypt.close(name, { deferred: true });
  if (deferred === "busy") {
    log.warn(
      `/dev/mapper/${name} is still in use and could not be marked for deferred removal`,
    );
    return "busy";
  }
  if (deferred === "not-active") {
    log.info(`/dev/mapper/${name} went away`);
    return "closed";
  }
  log.warn(
    `/dev/mapper/${name} is still in use; the kernel removes it when its last user (a mount) lets go`,
  );
  return "deferred";
}

/** `umount -l` of every mount of /dev/mapper/name, where this process reaches the host's mounts. */
async function unmountMapping(
  umount: string,
  name: string,
  deps: UnlockDeps,
): Promise<void> {
  const { log } = deps;
  const mountinfoPath = deps.mountinfoPath ?? "/proc/self/mountinfo";
  let mountinfo = "";
  try {
    mountinfo = readFileSync(mountinfoPath, "utf8");
  } catch (error) {
    log.warn(
      `cannot read ${mountinfoPath}: ${describeErrno(error)}; not unmounting anything`,
    );
  }
  const mounts = mountsOfMapping(mountinfo, name, deps.sysRoot);
  const unreachable =
    mounts.length > 0 ? mountsUnreachable(deps.env) : undefined;
  for (const mount of mounts) {
    if (unreachable) {
      log.warn(
        `not unmounting ${mount.mountPoint}: unmounting from ${unreachable} would not reach the host; autofs expiry or umount -l ${mount.mountPoint} as root releases it`,
      );
      continue;
    }
    // umount(8) resolves the path again: a directory on the way that someone else may change
    // could turn it into another mount point. Detaching the outer mount takes its submounts too.
    const why = mountPathRisk(mount.mountPoint);
    if (why) {
      log.warn(
        `not unmounting ${mount.mountPoint}: ${why}, so its path could lead elsewhere by the time umount runs; autofs expiry or umount -l ${mount.mountPoint} as root (after checking it) releases it`,
      );
      continue;
    }
    const result = await deps.exec([umount, "-l", "--", mount.mountPoint], {
      timeoutMs: UMOUNT_TIMEOUT_MS,
    });
    if (result.exitCode === 0)
      log.info(
        `lazily unmounted ${mount.mountPoint} (was /dev/mapper/${name})`,
      );
    else
      log.warn(
        `could not unmount ${mount.mountPoint}: ${result.timedOut ? "umount timed out" : lastLines(result.stderr) || `umount exit ${result.exitCode}`}`,
      );
  }
}

export type ReleaseOutcome = "closed" | "deferred" | "not-open" | "attached";

/**
 * The clean-up the udev sandbox cannot finish, run as root by the refresh units (outside udev):
 * when /dev/mapper/name is this changer's LUKS mapping and the kernel says its disk is gone, the
 * dead mounts of it are lazily unmounted and it is closed, or marked for removal once the last
 * file open on it is closed (a job that was writing when the disk was pulled). A mapping whose
 * disk is attached is never touched.
 */
export async function releaseStaleMapping(
  config: Config,
  name: string,
  deps: UnlockDeps,
): Promise<ReleaseOutcome> {
  const { log } = deps;
  // sysfs first: the timer runs this every 15 min, and nothing is open most of the time.
  if (!dmMapping(name, deps.sysRoot) && hasBlockSysfs(deps.sysRoot)) {
    log.debug(`/dev/mapper/${name} is not open; nothing to release`);
    return "not-open";
  }
  const crypt = cryptsetup(config.tools.cryptsetup, deps.exec);
  const status = await crypt.status(name);
  if (!status.active) {
    log.debug(`/dev/mapper/${name} is not open; nothing to release`);
    return "not-open";
  }
  const kernel = ownedOrRefuse(config, name, status, deps.sysRoot);
  if (!diskGone(status, kernel)) {
    log.debug(`/dev/mapper/${name} is open on an attached disk; left alone`);
    return "attached";
  }
  log.warn(
    `/dev/mapper/${name} is a stale mapping of ${describeGone(status, kernel)}; releasing it`,
  );
  const release = await releaseMapping(crypt, config.tools.umount, name, deps);
  if (release === "busy")
    throw new AppError(
      `cannot close /dev/mapper/${name}, whose disk is gone: it is still in use and cannot be marked for removal; find its user with \`fuser -vm /dev/mapper/${name}\`, stop it, then run magchanger unlock --release-stale ${name}`,
    );
  return release;
}

/**
 * releaseStaleMapping for each of this changer's mapping names: one that cannot be released does
 * not keep the others from it; the first such failure is thrown once all were tried.
 */
export async function releaseStaleMappings(
  config: Config,
  deps: UnlockDeps,
): Promise<{ name: string; outcome: ReleaseOutcome }[]> {
  const done: { name: string; outcome: ReleaseOutcome }[] = [];
  let failure: unknown;
  for (const { name } of luksMappers(config)) {
    try {
      done.push({
        name,
        outcome: await releaseStaleMapping(config, name, deps),
      });
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return done;
}
