// What the kernel says about a device-mapper device, read from sysfs (no tool, no udev database):
// its dm UUID, which cryptsetup sets to CRYPT-<TYPE>-<LUKS UUID without dashes>-<name> when it
// opens a LUKS disk, and the devices below it. cryptsetup status cannot tell a mapping whose disk
// was pulled from someone else's: it then prints "type: n/a" and "device: (null)" (seen on a
// real kernel, Debian 12), while the kernel still holds the UUID and a link to the vanished disk.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** A /sys/class/block link's target that runs through a USB port (…/usbN/…). */
export function isUsbSysfsLink(target: string): boolean {
  return /\/usb\d+\//.test(target);
}

export interface DmMapping {
  /** dm-N, the kernel's name of the device. */
  kernelName: string;
  name: string;
  /** major:minor */
  devno: string;
  uuid: string;
  /** The devices below it (sysfs "slaves"), and whether each still exists. */
  below: { name: string; present: boolean; usb: boolean }[];
}

/** The LUKS UUID a cryptsetup-made dm UUID carries, for mapping name; undefined if it is not one. */
export function luksUuidOfDmUuid(
  dmUuid: string,
  name: string,
): string | undefined {
  const m = /^CRYPT-LUKS[12]-([0-9a-f]{32})-(.+)$/.exec(dmUuid);
  if (!m || m[2] !== name) return undefined;
  const hex = m[1] as string;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Every device-mapper device the kernel has; empty without sysfs or device-mapper. */
export function dmMappings(sysRoot = "/sys"): DmMapping[] {
  let entries: string[];
  try {
    entries = readdirSync(join(sysRoot, "block")).filter((e) =>
      e.startsWith("dm-"),
    );
  } catch {
    return [];
  }
  const out: DmMapping[] = [];
  for (const kernelName of entries) {
    const dir = join(sysRoot, "block", kernelName);
    const name = readTrimmed(join(dir, "dm", "name"));
    const devno = readTrimmed(join(dir, "dev"));
    if (name === undefined || devno === undefined) continue;
    let slaves: string[] = [];
    try {
      slaves = readdirSync(join(dir, "slaves"));
    } catch {
      // no slaves directory: nothing below
    }
    out.push({
      kernelName,
      name,
      devno,
      uuid: readTrimmed(join(dir, "dm", "uuid")) ?? "",
      below: slaves.map((s) => {
        const link = join(dir, "slaves", s);
        let target = "";
        try {
          // readlink, not realpath: the target of a pulled disk's link is gone.
          target = readlinkSync(link);
        } catch {
          // unreadable link: counts as gone
        }
        // A pulled disk's entry stays as a link to the sysfs directory that was removed.
        return {
          name: s,
          present: existsSync(link),
          usb: isUsbSysfsLink(target),
        };
      }),
    });
  }
  return out;
}

/** sysfs lists the kernel's block devices here (so a dm device missing from it does not exist). */
export function hasBlockSysfs(sysRoot = "/sys"): boolean {
  return existsSync(join(sysRoot, "block"));
}

export function dmMapping(
  name: string,
  sysRoot = "/sys",
): DmMapping | undefined {
  return dmMappings(sysRoot).find((m) => m.name === name);
}

/** True when every device below the mapping is gone: its disk was pulled. */
export function isOrphaned(mapping: DmMapping): boolean {
  return mapping.below.length > 0 && mapping.below.every((b) => !b.present);
}

export type MappingKind =
  | { kind: "none" }
  | { kind: "luks"; mapping: DmMapping }
  | { kind: "foreign"; uuid: string };

/**
 * What /dev/mapper/name is by the kernel's account: absent from sysfs, a LUKS mapping cryptsetup
 * made under that very name (then its disk may be pulled: see isOrphaned), or someone else's
 * device (LVM, plain dm-crypt, a mapping cryptsetup made under another name and renamed).
 */
export function classifyMapping(name: string, sysRoot = "/sys"): MappingKind {
  const mapping = dmMapping(name, sysRoot);
  if (!mapping) return { kind: "none" };
  return luksUuidOfDmUuid(mapping.uuid, name) !== undefined
    ? { kind: "luks", mapping }
    : { kind: "foreign", uuid: mapping.uuid };
}
