// Opening a LUKS disk for a changer, and closing the mapping of a disk that was pulled. This
// replaces the seed's unlock-luks script: udev repeats add/change events, so an open mapping of
// the same disk is success; a mapping left behind by a pulled disk (the kernel keeps it while
// something holds it) is cleaned up before a new disk is opened under that name. A changer with
// several autofs bays has one mapping name per bay (luksMappers): a disk goes to the first name
// that is free or stale, and each pulled disk's mapping is found by the kernel's link to it.
// Reachable from udev: nothing here may need bun:ffi or mount syscalls of its own.
import { type AutofsBay, luksMappers } from "../config/layout.ts";
import type { Config } from "../config/schema.ts";
import { AppError } from "../errors.ts";
import {
  type Cryptsetup,
  cryptsetup,
  type MappingStatus,
} from "../system/cryptsetup.ts";
import type { DmMapping } from "../system/dm.ts";
import { isBlockDevice, sameBlockDevice } from "./device.ts";
import type { UnlockDeps } from "./deps.ts";
import { checkKeyFile } from "./keyfile.ts";
import {
  describeGone,
  diskGone,
  onRemovedDisk,
  ownedOrRefuse,
  ownMapping,
} from "./mapping.ts";
import { releaseMapping } from "./release.ts";

export type { UnlockDeps } from "./deps.ts";
export {
  type ReleaseOutcome,
  releaseStaleMapping,
  releaseStaleMappings,
} from "./release.ts";

export type UnlockOutcome = "opened" | "already-open";

/** The name is held by the stale mapping of a pulled disk that something still uses. */
export class StaleMappingBusyError extends AppError {}
export type RemoveOutcome = "closed" | "deferred" | "not-open" | "left-alone";

export interface Unlocked {
  outcome: UnlockOutcome;
  /** The /dev/mapper name the disk is open under. */
  name: string;
}

type Mapper = { name: string; bay?: AutofsBay };

/** One of the changer's names as found before choosing where the disk goes. */
type Survey = Mapper &
  (
    | { state: "free" }
    | { state: "foreign"; refusal: string }
    | { state: "held"; device: string }
    | { state: "stale"; status: MappingStatus; kernel: DmMapping | undefined }
  );

/**
 * Opens device (a validated block device path) with the config's key file under the first of
 * the changer's mapping names that is free, or whose disk is gone (released first).
 */
export async function unlockDevice(
  config: Config,
  device: string,
  deps: UnlockDeps,
): Promise<Unlocked> {
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
  const mappers = luksMappers(config);
  const survey: Survey[] = [];
  for (const mapper of mappers) {
    const { name } = mapper;
    const status = await crypt.status(name);
    if (!status.active) {
      survey.push({ ...mapper, state: "free" });
      continue;
    }
    const owned = ownMapping(config, mapper, status, deps.sysRoot);
    if (!owned.own) {
      survey.push({ ...mapper, state: "foreign", refusal: owned.refusal });
      continue;
    }
    const gone = diskGone(status, owned.kernel);
    if (!gone && status.device && sameBlockDevice(status.device, device)) {
      log.info(
        `/dev/mapper/${name} is already open on ${device} (LUKS UUID ${uuid}); nothing to do`,
      );
      return { outcome: "already-open", name };
    }
    if (!gone && status.device && isBlockDevice(status.device))
      survey.push({ ...mapper, state: "held", device: status.device });
    else
      survey.push({ ...mapper, state: "stale", status, kernel: owned.kernel });
  }
  const inBay = (m: Mapper) =>
    mappers.length > 1 && m.bay ? ` (bay ${m.bay.bay}, ${m.bay.path})` : "";
  let stillHeld: string | undefined;
  for (const candidate of survey) {
    const { name } = candidate;
    if (candidate.state === "stale") {
      log.warn(
        `/dev/mapper/${name} is a stale mapping of ${describeGone(candidate.status, candidate.kernel)}; cleaning it up`,
      );
      const release = await releaseMapping(
        crypt,
        config.tools.umount,
        name,
        deps,
      );
      if (release !== "closed") {
        stillHeld ??= `cannot open ${device} as /dev/mapper/${name}: the stale mapping is still in use${release === "deferred" ? " (marked for removal once its last mount goes)" : ""}; the refresh units release it (magchanger unlock --release-stale) once nothing holds it (a job writing when its disk was pulled ends in error); then replug the disk or run magchanger unlock ${device} ${config.luks.mapper}`;
        continue;
      }
    } else if (candidate.state !== "free") continue;
    await crypt.open(device, name, config.luks.key_file);
    log.info(
      `opened ${device} (LUKS UUID ${uuid}) as /dev/mapper/${name}${inBay(candidate)}`,
    );
    return { outcome: "opened", name };
  }
  if (stillHeld) throw new StaleMappingBusyError(stillHeld);
  const foreign = survey.find((s) => s.state === "foreign");
  if (foreign?.state === "foreign") throw new AppError(foreign.refusal);
  throw new AppError(everyBayHeld(config, device, survey, inBay));
}

/** Every name holds an attached disk: which, and what the operator does about it. */
function everyBayHeld(
  config: Config,
  device: string,
  survey: Survey[],
  inBay: (m: Mapper) => string,
): string {
  const held = survey.flatMap((s) => (s.state === "held" ? [s] : []));
  const [only] = held;
  if (held.length === 1 && only)
    return `/dev/mapper/${only.name} is already open on ${only.device}, which is still attached; not touching it. Detach that disk (or run magchanger unlock --remove ${only.name}) first, or give this changer its own luks.mapper`;
  const each = held.map(
    (s, i) =>
      `/dev/mapper/${s.name}${i === 0 ? " is open" : ""} on ${s.device}${inBay(s)}`,
  );
  return `every bay of changer ${config.name} holds a disk: ${each.join(", ")}; not opening ${device}: eject one (magchanger eject -c ${config.source} BAY) and unplug it, then plug this disk in again`;
}

/**
 * Closes /dev/mapper/name after its disk was pulled. With removedDevice (udev's DEVNAME), the
 * mapping among all of this changer's names whose disk is that device is closed, and every
 * other mapping is left alone.
 */
export async function removeMapping(
  config: Config,
  name: string,
  removedDevice: string | undefined,
  deps: UnlockDeps,
): Promise<RemoveOutcome> {
  if (removedDevice === undefined) return removeByName(config, name, deps);
  const { log } = deps;
  const crypt = cryptsetup(config.tools.cryptsetup, deps.exec);
  const mappers = luksMappers(config);
  const open: { name: string; on: "gone" | "present" | undefined }[] = [];
  for (const mapper of mappers) {
    const status = await crypt.status(mapper.name);
    if (!status.active) continue;
    const owned = ownMapping(config, mapper, status, deps.sysRoot);
    if (!owned.own) {
      log.warn(`${owned.refusal}; left alone`);
      open.push({ name: mapper.name, on: undefined });
      continue;
    }
    const on = onRemovedDisk(status, owned.kernel, removedDevice);
    if (!on)
      log.info(
        `/dev/mapper/${mapper.name} is open on ${status.device ?? describeGone(status, owned.kernel)}, not on the removed ${removedDevice}; left alone`,
      );
    open.push({ name: mapper.name, on });
  }
  if (open.length === 0) {
    log.info(
      mappers.length === 1
        ? `/dev/mapper/${name} is not open; nothing to close`
        : `no mapping of changer ${config.name} is open (${mappers.map((m) => `/dev/mapper/${m.name}`).join(", ")}); nothing to close`,
    );
    return "not-open";
  }
  // A disk plugged in since may carry the removed one's number: then only the gone one is its.
  const anyGone = open.some((o) => o.on === "gone");
  const targets = open.filter(
    (o) => o.on === "gone" || (o.on === "present" && !anyGone),
  );
  let outcome: RemoveOutcome = "left-alone";
  for (const target of targets) {
    const release = await releaseOrRefuse(config, crypt, target.name, deps);
    if (outcome !== "deferred") outcome = release;
  }
  return outcome;
}

/** `unlock --remove [NAME]` without a device: close that one mapping, whatever disk it is on. */
async function removeByName(
  config: Config,
  name: string,
  deps: UnlockDeps,
): Promise<RemoveOutcome> {
  const { log } = deps;
  const crypt = cryptsetup(config.tools.cryptsetup, deps.exec);
  const status = await crypt.status(name);
  if (!status.active) {
    log.info(`/dev/mapper/${name} is not open; nothing to close`);
    return "not-open";
  }
  ownedOrRefuse(config, name, status, deps.sysRoot);
  return releaseOrRefuse(config, crypt, name, deps);
}

/** Unmounts and closes /dev/mapper/name; one still in use is an error naming the retry. */
async function releaseOrRefuse(
  config: Config,
  crypt: Cryptsetup,
  name: string,
  deps: UnlockDeps,
): Promise<"closed" | "deferred"> {
  const release = await releaseMapping(crypt, config.tools.umount, name, deps);
  if (release === "busy")
    throw new AppError(
      `cannot close /dev/mapper/${name}: it is still in use; unmount it and run magchanger unlock --remove ${name} again`,
    );
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
