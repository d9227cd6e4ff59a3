// Opening a LUKS disk for a changer, and closing the mapping of a disk that was pulled. This
// replaces the seed's unlock-luks script: udev repeats add/change events, so an open mapping of
// the same disk is success; a mapping left behind by a pulled disk (the kernel keeps it while
// something holds it) is cleaned up before the new disk is opened under the same name.
// Reachable from udev: nothing here may need bun:ffi or mount syscalls of its own.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Config } from "../config/schema.ts";
import { AppError, describeErrno } from "../errors.ts";
import type { Log } from "../log.ts";
import { mountPathRisk } from "../state/safe-fs.ts";
import type { Exec } from "../system/exec.ts";
import {
  type Cryptsetup,
  cryptsetup,
  type MappingStatus,
} from "../system/cryptsetup.ts";
import {
  classifyMapping,
  type DmMapping,
  dmMapping,
  hasBlockSysfs,
  isOrphaned,
} from "../system/dm.ts";
import { isBlockDevice, sameBlockDevice } from "./device.ts";
import { checkKeyFile } from "./keyfile.ts";
import { mountsOfMapping, mountsUnreachable } from "./mounts.ts";
import { lastLines } from "../text.ts";

const UMOUNT_TIMEOUT_MS = 15_000;

export interface UnlockDeps {
  exec: Exec;
  log: Log;
  env: Record<string, string | undefined>;
  /** The mount table to search; /proc/self/mountinfo unless a test says otherwise. */
  mountinfoPath?: string;
  sysRoot?: string;
}

export type UnlockOutcome = "opened" | "already-open";

/** The name is held by the stale mapping of a pulled disk that something still uses. */
export class StaleMappingBusyError extends AppError {}
export type RemoveOutcome = "closed" | "deferred" | "not-open" | "left-alone";

/** Opens device (a validated block device path) as /dev/mapper/name with the config's key file. */
export async function unlockDevice(
  config: Config,
  device: string,
  name: string,
  deps: UnlockDeps,
): Promise<UnlockOutcome> {
  const { log } = deps;
  checkKeyFile(config.luks.key_file, config.source);
  const crypt = cryptsetup(config.tools.cryptsetup, deps.exec);
  if (!(await crypt.isLuks(device))) {
    throw new AppError(
      `${device} is not a LUKS device; format it with cryptsetup luksFormat (see README) or fix the udev rule's match`,
    );
  }
  const uuid = await crypt.luksUUID(device);
  const allowed = config.luks.allowed_uuids.map((u) => u.toLowerCase());
  if (allowed.length > 0 && !allowed.includes(uuid)) {
    throw new AppError(
      `${device} has LUKS UUID ${uuid}, which is not in luks.allowed_uuids of ${config.source}; add it there to use this disk`,
    );
  }
  const status = await crypt.status(name);
  if (status.active) {
    const kernel = ownMapping(name, status, deps.sysRoot);
    const gone = diskGone(status, kernel);
    if (!gone && status.device && sameBlockDevice(status.device, device)) {
      log.info(
        `/dev/mapper/${name} is already open on ${device} (LUKS UUID ${uuid}); nothing to do`,
      );
      return "already-open";
    }
    if (!gone && status.device && isBlockDevice(status.device)) {
      throw new AppError(
        `/dev/mapper/${name} is already open on ${status.device}, which is still attached; not touching it. Detach that disk (or run magchanger unlock --remove ${name}) first, or give this changer its own luks.mapper`,
      );
    }
    log.warn(
      `/dev/mapper/${name} is a stale mapping of ${describeGone(status, kernel)}; cleaning it up`,
    );
    const release = await releaseMapping(
      crypt,
      config.tools.umount,
      name,
      deps,
    );
    if (release !== "closed") {
      throw new StaleMappingBusyError(
        `cannot open ${device} as /dev/mapper/${name}: the stale mapping is still in use${release === "deferred" ? " (marked for removal once its last mount goes)" : ""}; the refresh units release it (magchanger unlock --release-stale) once nothing holds it (a job writing when its disk was pulled ends in error); then replug the disk or run magchanger unlock ${device} ${name}`,
      );
    }
  }
  await crypt.open(device, name, config.luks.key_file);
  log.info(`opened ${device} (LUKS UUID ${uuid}) as /dev/mapper/${name}`);
  return "opened";
}

/**
 * Closes /dev/mapper/name after its disk was pulled. With removedDevice (udev's DEVNAME), a
 * mapping that lives on another, still attached disk is left alone.
 */
export async function removeMapping(
  config: Config,
  name: string,
  removedDevice: string | undefined,
  deps: UnlockDeps,
): Promise<RemoveOutcome> {
  const { log } = deps;
  const crypt = cryptsetup(config.tools.cryptsetup, deps.exec);
  const status = await crypt.status(name);
  if (!status.active) {
    log.info(`/dev/mapper/${name} is not open; nothing to close`);
    return "not-open";
  }
  const kernel = ownMapping(name, status, deps.sysRoot);
  if (removedDevice && onAnotherDisk(status, kernel, removedDevice)) {
    log.info(
      `/dev/mapper/${name} is open on ${status.device}, not on the removed ${removedDevice}; left alone`,
    );
    return "left-alone";
  }
  const release = await releaseMapping(crypt, config.tools.umount, name, deps);
  if (release === "busy") {
    throw new AppError(
      `cannot close /dev/mapper/${name}: it is still in use; unmount it and run magchanger unlock --remove ${name} again`,
    );
  }
  return release;
}

/**
 * Whether /dev/mapper/name holds a filesystem blkid recognizes. A disk being prepared (just
 * luksFormat'ed, opened by the change event that follows) holds none yet: scanning its bay then
 * would make autofs try a mount that fails, and autofs answers every access for the next
 * negative-timeout seconds with ENOENT, mkfs done or not.
 */
export async function mappingHasFilesystem(
  config: Config,
  name: string,
  deps: UnlockDeps,
): Promise<boolean> {
  // blkid says the same (exit 2, nothing) of a node that does not exist: then nothing is known.
  if (!isBlockDevice(`/dev/mapper/${name}`)) return true;
  const result = await deps.exec(
    [
      config.tools.blkid,
      "-p",
      "-o",
      "value",
      "-s",
      "TYPE",
      "--",
      `/dev/mapper/${name}`,
    ],
    { timeoutMs: 10_000 },
  );
  // 2: nothing recognized. Anything else unexpected: assume a filesystem (tell Bacula, as before).
  return !(result.exitCode === 2 && result.stdout.trim() === "");
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
  const kernel = ownMapping(name, status, deps.sysRoot);
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
 * Lazily unmounts what is mounted from /dev/mapper/name (where this process can reach the host's
 * mount table), then closes it; if it is still held, asks the kernel to remove it when the last
 * holder lets go. Says on the log what it did and what it could not do.
 */
async function releaseMapping(
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

/**
 * The kernel's facts about /dev/mapper/name when it is a LUKS mapping cryptsetup made (its dm
 * UUID says so, whatever cryptsetup status prints for a pulled disk); anything else of that
 * name (LVM, plain dm-crypt) is someone else's and refused. Without sysfs, cryptsetup's type.
 */
function ownMapping(
  name: string,
  status: MappingStatus,
  sysRoot?: string,
): DmMapping | undefined {
  const kernel = classifyMapping(name, sysRoot);
  if (kernel.kind === "luks") return kernel.mapping;
  if (kernel.kind === "foreign")
    throw new AppError(
      `/dev/mapper/${name} exists but is not a LUKS mapping made by cryptsetup (device-mapper UUID ${JSON.stringify(kernel.uuid.slice(0, 80))}); not touching it: give this changer another luks.mapper`,
    );
  if (!/^LUKS\d*$/.test(status.type)) {
    throw new AppError(
      `/dev/mapper/${name} exists but is not a LUKS mapping (type ${status.type}); not touching it: give this changer another luks.mapper`,
    );
  }
  return undefined;
}

/**
 * Its disk was pulled: the kernel's link to the device below dangles. A disk plugged in since
 * may have been given the pulled one's number, so cryptsetup's device path alone could name it.
 */
function diskGone(
  status: MappingStatus,
  kernel: DmMapping | undefined,
): boolean {
  if (kernel && kernel.below.length > 0) return isOrphaned(kernel);
  return !status.device || !isBlockDevice(status.device);
}

function describeGone(
  status: MappingStatus,
  kernel: DmMapping | undefined,
): string {
  const below = kernel?.below.map((b) => b.name).join(", ");
  return below
    ? `${below}, which is gone`
    : (status.device ?? "a disk that is gone");
}

/** The mapping lives on a disk that is still attached and is not the removed one. */
function onAnotherDisk(
  status: MappingStatus,
  kernel: DmMapping | undefined,
  removedDevice: string,
): boolean {
  if (kernel && kernel.below.length > 0) {
    const removed = basename(removedDevice);
    return !kernel.below.some((b) => b.name === removed) && !isOrphaned(kernel);
  }
  return (
    status.device !== undefined &&
    status.device !== removedDevice &&
    isBlockDevice(status.device)
  );
}
