// A disk plugged in while the stale mapping of a pulled one still held the changer's name (a job
// still had a file open on the dead disk): its unlock (udev) failed, and nothing replugs it. udev's
// unlock leaves a mark in root's /run/magchanger; once release-stale has found the name free
// (outside udev, from the refresh units and the timer's retry), the USB disks that hold a LUKS
// header and that no mapping holds are opened here, as udev's rule would have
// (SUBSYSTEMS=="usb", ID_FS_TYPE crypto_LUKS). Without the mark nothing is tried: a disk another
// key opens would otherwise cost a PBKDF run and a log line on every timer run.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { cryptsetup } from "../system/cryptsetup.ts";
import { isUsbSysfsLink } from "../system/dm.ts";
import { isBlockDevice } from "./device.ts";
import { type UnlockDeps, unlockDevice } from "./unlock.ts";

/** Block devices below a USB controller that nothing holds (no dm mapping on top of them). */
function unheldUsbDevices(sysRoot: string): string[] {
  const dir = join(sysRoot, "class/block");
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => {
    try {
      if (!isUsbSysfsLink(readlinkSync(join(dir, name)))) return false;
      return readdirSync(join(dir, name, "holders")).length === 0;
    } catch {
      return false;
    }
  });
}

/** Opens the first waiting LUKS USB disk (under the first free name); its device, or undefined. */
async function openWaitingDisk(
  config: Config,
  deps: UnlockDeps,
): Promise<string | undefined> {
  const name = config.luks.mapper;
  const crypt = cryptsetup(config.tools.cryptsetup, deps.exec);
  for (const entry of unheldUsbDevices(deps.sysRoot ?? "/sys")) {
    const device = `/dev/${entry}`;
    if (!isBlockDevice(device) || !(await crypt.isLuks(device))) continue;
    try {
      await unlockDevice(config, device, deps);
      deps.log.info(
        `${device} was plugged in while the stale mapping held /dev/mapper/${name}: opened it now`,
      );
      return device;
    } catch (error) {
      deps.log.warn(
        `${device} waits to be opened, but: ${(error as Error).message}`,
      );
    }
  }
  return undefined;
}

/**
 * Root's own directory for the mark, one per changer (named by luks.mapper, the name udev passes
 * and the scan looks under): /run is root's tmpfs (MAGCHANGER_RUN_DIR: tests).
 */
function markPath(config: Config, env: UnlockDeps["env"]): string {
  return join(
    env.MAGCHANGER_RUN_DIR || "/run/magchanger",
    `${config.luks.mapper}.waiting`,
  );
}

/** udev's unlock could not open a disk because a stale mapping still held its name. */
export function markWaiting(
  config: Config,
  device: string,
  deps: UnlockDeps,
): void {
  const name = config.luks.mapper;
  try {
    const path = markPath(config, deps.env);
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    writeFileSync(path, `${device}\n`, { mode: 0o600 });
  } catch (error) {
    deps.log.warn(
      `could not note that ${device} waits for /dev/mapper/${name}: ${(error as Error).message}; replug it once the job that held the pulled disk has ended`,
    );
  }
}

/** When a disk of this changer waits (and a name is free now), opens it and clears the mark. */
export async function openIfWaiting(
  config: Config,
  deps: UnlockDeps,
): Promise<void> {
  const path = markPath(config, deps.env);
  if (!existsSync(path)) return;
  if ((await openWaitingDisk(config, deps)) !== undefined)
    rmSync(path, { force: true });
}
