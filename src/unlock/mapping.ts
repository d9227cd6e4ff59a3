// What a mapping of one of this changer's names is, by the kernel's account: its own LUKS mapping
// (the dm UUID cryptsetup set for that very name), or someone else's device never to be touched;
// whether its disk is gone; whether it sits on the disk udev just removed.
import { basename } from "node:path";
import { type AutofsBay, luksMappers } from "../config/layout.ts";
import type { Config } from "../config/schema.ts";
import { AppError } from "../errors.ts";
import type { MappingStatus } from "../system/cryptsetup.ts";
import { classifyMapping, type DmMapping, isOrphaned } from "../system/dm.ts";
import { isBlockDevice } from "./device.ts";

export type Ownership =
  | { own: true; kernel: DmMapping | undefined }
  | { own: false; refusal: string };

/** The config key that names a mapping: what a refusal tells the admin to change. */
function mapperKey(
  config: Config,
  mapper: { name: string; bay?: AutofsBay },
): string {
  return mapper.bay && mapper.name !== config.luks.mapper
    ? `magazine[${mapper.bay.bay}] of ${config.source} another mapper`
    : "this changer another luks.mapper";
}

/**
 * The kernel's facts about /dev/mapper/NAME, one of this changer's mappers, when it is a LUKS
 * mapping cryptsetup made (its dm UUID says so, whatever cryptsetup status prints for a pulled
 * disk); anything else of that name (LVM, plain dm-crypt) is someone else's: the refusal says so
 * and which config key to change. Without sysfs, cryptsetup's type.
 */
export function ownMapping(
  config: Config,
  mapper: { name: string; bay?: AutofsBay },
  status: MappingStatus,
  sysRoot?: string,
): Ownership {
  const { name } = mapper;
  const fix = mapperKey(config, mapper);
  const kernel = classifyMapping(name, sysRoot);
  if (kernel.kind === "luks") return { own: true, kernel: kernel.mapping };
  if (kernel.kind === "foreign")
    return {
      own: false,
      refusal: `/dev/mapper/${name} exists but is not a LUKS mapping made by cryptsetup (device-mapper UUID ${JSON.stringify(kernel.uuid.slice(0, 80))}); not touching it: give ${fix}`,
    };
  if (!/^LUKS\d*$/.test(status.type))
    return {
      own: false,
      refusal: `/dev/mapper/${name} exists but is not a LUKS mapping (type ${status.type}); not touching it: give ${fix}`,
    };
  return { own: true, kernel: undefined };
}

/**
 * Its disk was pulled: the kernel's link to the device below dangles. A disk plugged in since
 * may have been given the pulled one's number, so cryptsetup's device path alone could name it.
 */
export function diskGone(
  status: MappingStatus,
  kernel: DmMapping | undefined,
): boolean {
  if (kernel && kernel.below.length > 0) return isOrphaned(kernel);
  return !status.device || !isBlockDevice(status.device);
}

export function describeGone(
  status: MappingStatus,
  kernel: DmMapping | undefined,
): string {
  const below = kernel?.below.map((b) => b.name).join(", ");
  return below
    ? `${below}, which is gone`
    : (status.device ?? "a disk that is gone");
}

/**
 * How the mapping relates to the disk udev removed: "gone" when the kernel's device below it is
 * that disk and has left sysfs, "present" when it is that name but still there (a disk plugged in
 * since under the same number, or `unlock --remove` typed for an attached disk), undefined when
 * it lives on another disk. Without the kernel's facts, cryptsetup's device path.
 */
export function onRemovedDisk(
  status: MappingStatus,
  kernel: DmMapping | undefined,
  removedDevice: string,
): "gone" | "present" | undefined {
  if (kernel && kernel.below.length > 0) {
    const removed = basename(removedDevice);
    const entry = kernel.below.find((b) => b.name === removed);
    if (!entry) return undefined;
    return entry.present ? "present" : "gone";
  }
  if (status.device === removedDevice) return "present";
  return !status.device || !isBlockDevice(status.device) ? "gone" : undefined;
}

/** ownMapping, with someone else's device refused (a command naming that one mapping). */
export function ownedOrRefuse(
  config: Config,
  name: string,
  status: MappingStatus,
  sysRoot?: string,
): DmMapping | undefined {
  const mapper = luksMappers(config).find((m) => m.name === name) ?? { name };
  const owned = ownMapping(config, mapper, status, sysRoot);
  if (!owned.own) throw new AppError(owned.refusal);
  return owned.kernel;
}
