// `magchanger eject`: make the disk in a bay safe to pull. Runs as root (umount, cryptsetup);
// every change to the changer's state goes through a child magchanger that drops to the run-as
// user itself (`changer ... unload`, `refresh`), exactly as the storage daemon and the timer run
// them, so nothing in the work dir ever becomes root's.
//
// Order: ask the storage daemon (outside the changer lock) whether a job uses a volume of the
// disk and refuse, naming it; unload its volumes from idle drives; sync; unmount (the kernel
// refuses while anything holds a file open there: the last word on "in use"); close the LUKS
// mapping; tell Bacula (refresh: update slots). A race with a job that starts in between ends in
// "busy" at the unmount, never in a pulled disk under a job.
import { basename, resolve } from "node:path";
import { autofsBays } from "../config/layout.ts";
import { classifyMapping } from "../system/dm.ts";
import { quoteName, runBconsole } from "./bconsole.ts";
import { type DriveStatus, readStorageStatus } from "./sd-status.ts";
import type { ChangerContext } from "../changer/context.ts";
import { probeAll } from "../disk/discover.ts";
import { AppError, DiskBusyError, ToolError, errorMessage } from "../errors.ts";
import { readDrives, driveLinkPath } from "../state/drives.ts";
import { mountPathRisk } from "../state/safe-fs.ts";
import { type MountEntry, readMountInfo } from "../system/mounts.ts";
import { cryptsetup } from "../system/cryptsetup.ts";
import {
  chooseBay,
  describeIdentity,
  describeUse,
  diskMountAt,
  magazineName,
  mappingOf,
  volumesInUse,
} from "./eject-target.ts";

export interface EjectOptions {
  target?: string | undefined;
  /** How long to wait for a job using the disk to end (0: refuse at once). */
  waitSeconds: number;
  /** Runs this magchanger with args (as root: it drops to the run-as user itself). */
  runSelf: (
    args: string[],
  ) => Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Seconds between two looks at the storage daemon while waiting. */
  pollSeconds?: number;
}

export interface EjectResult {
  /** What eject prints on success, line by line. */
  lines: string[];
}

export async function ejectDisk(
  ctx: ChangerContext,
  options: EjectOptions,
): Promise<EjectResult> {
  const { config, sys } = ctx;
  const bay = chooseBay(config, await probeAll(config, sys), options.target);
  const where = `bay ${bay.index} (${bay.where})`;
  const mount = bay.mountPoint
    ? diskMountAt(readMountInfo(), bay.mountPoint)
    : undefined;
  if (!mount || !bay.mountPoint)
    return {
      lines: [
        ...(await closeUnmountedMapping(ctx, bay, where)),
        `nothing is mounted in ${where}: safe to unplug`,
      ],
    };
  refuseUntrustedPath(bay.mountPoint, where);
  const lines: string[] = [];
  const what = bay.identity
    ? describeIdentity(bay.identity)
    : `the disk in ${where}`;
  if (bay.present && bay.identity) {
    const volumes = new Set(bay.volumes);
    const seen = await waitUntilUnused(ctx, volumes, what, options);
    if (typeof seen === "string") lines.push(`WARN: ${seen}`);
    else await releaseIdleDevices(ctx, seen, volumes);
    await unloadDrives(ctx, bay.identity.uuid, options);
  }
  await unmountAndClose(ctx, bay.mountPoint, mount, what);
  lines.push(
    ...(await tellBacula(ctx, options, bay.present ? bay.volumes : [])),
  );
  const name = bay.identity ? magazineName(bay.identity) : undefined;
  lines.push(name ? `safe to unplug "${name}"` : `safe to unplug ${what}`);
  return { lines };
}

/**
 * sync and umount resolve the bay's path again when they run: below a directory the run-as user
 * owns (/var/lib/bacula/bays/usb1), it could swap a component for a link in between and root
 * would unmount whatever that leads to. Checked before anything changes (as unlock does).
 */
function refuseUntrustedPath(mountPoint: string, where: string): void {
  const why = mountPathRisk(mountPoint);
  if (why)
    throw new AppError(
      `not ejecting ${where}: ${why}, so its path could lead to another mount by the time umount runs; nothing was changed: make the directories above ${mountPoint} root's alone (${fixFor(why, mountPoint)}), or unmount it yourself after checking it`,
    );
}

/** The command that makes the component mountPathRisk named root's alone. */
function fixFor(why: string, mountPoint: string): string {
  const at = /^(.*) is (?:owned by uid \d+, not root|writable by .*)$/.exec(
    why,
  )?.[1];
  return at
    ? `chown root:root ${at}; chmod go-w ${at}`
    : `keep bays below a directory only root can change, e.g. /mnt/${basename(mountPoint)}`;
}

/**
 * How long eject keeps trying when the bay is busy for a moment or an access mounts it again
 * between its umount and close; a disk still busy after that is in use (exit 10).
 */
const REMOUNT_RETRY_MS = 15_000;

/**
 * sync, umount (the kernel refuses while a file is open there: busy), then close the LUKS
 * mapping the disk was mounted from. On an autofs bay any access in between (the refresh a plug
 * queued, the storage daemon listing the changer) mounts the disk again, and the close then finds
 * it busy (seen on a real kernel): that is retried for a few seconds, a file held open is not.
 */
async function unmountAndClose(
  ctx: ChangerContext,
  mountPoint: string,
  mount: MountEntry,
  what: string,
): Promise<void> {
  const { config, sys, log } = ctx;
  const deadline = Date.now() + REMOUNT_RETRY_MS;
  const mapping = mappingOf(mount);
  for (let attempt = 1; ; attempt++) {
    const busy = await unmount(ctx, mountPoint, mount);
    if (busy) {
      // A scan of the bay holds a file for a moment; a job holds it until it ends.
      if (Date.now() > deadline)
        throw new DiskBusyError(
          `cannot unmount ${mountPoint}: ${what} is in use (${busy}); see \`fuser -vm ${mountPoint}\`, then retry`,
        );
      await Bun.sleep(1000);
      continue;
    }
    const mountedAgain = () =>
      diskMountAt(readMountInfo(), mountPoint)?.majorMinor === mount.majorMinor;
    if (mapping) {
      const closed = await cryptsetup(config.tools.cryptsetup, sys.exec).close(
        mapping,
      );
      if (closed !== "busy") {
        log.info(
          `eject: /dev/mapper/${mapping} ${closed === "closed" ? "closed" : "was not open"}`,
        );
        return;
      }
    } else if (!mountedAgain()) return;
    if (!mountedAgain() || Date.now() > deadline)
      throw mapping
        ? new DiskBusyError(
            `${mountPoint} is unmounted but /dev/mapper/${mapping} is still in use (mounted elsewhere?); unmount it, then run \`cryptsetup close ${mapping}\``,
          )
        : new AppError(
            `${mountPoint} is still mounted from ${mount.source} (mounted more than once?); unmount it, then retry`,
          );
    log.info(
      `eject: ${mountPoint} was mounted again by an access (attempt ${attempt}); unmounting it again`,
    );
    await Bun.sleep(500);
  }
}

/** umount's complaint when the disk is busy, undefined once it is unmounted. */
async function unmount(
  ctx: ChangerContext,
  mountPoint: string,
  mount: MountEntry,
): Promise<string | undefined> {
  const { config, sys, log } = ctx;
  const umount = config.tools.umount;
  await sys.exec(["sync", "-f", "--", mountPoint], { timeoutMs: 120_000 });
  const result = await sys.exec([umount, "--", mountPoint], {
    timeoutMs: 120_000,
  });
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split("\n")[0] ?? "";
    if (/busy/i.test(said)) return said;
    throw new ToolError(
      `${umount} ${mountPoint} failed (exit ${result.exitCode}): ${said}`,
    );
  }
  log.info(`eject: unmounted ${mountPoint} (${mount.source})`);
  return undefined;
}

/**
 * The disk of an autofs bay may be open (udev unlocked it) without being mounted (autofs expired
 * it, or it was never accessed). Pulled like that, the kernel keeps a stale mapping under that
 * bay's mapping name (seen on a real kernel), so eject closes it: that bay's name only
 * (luks.mapper, or its own mapper), only when the kernel says it is a LUKS mapping cryptsetup
 * made under that name, and not while anything holds it.
 */
async function closeUnmountedMapping(
  ctx: ChangerContext,
  bay: { mountPoint?: string | undefined; spec: { path?: string | undefined } },
  where: string,
): Promise<string[]> {
  const { config, sys, log } = ctx;
  if (!config.automap.luks || bay.spec.path === undefined) return [];
  const path = resolve(bay.spec.path);
  const automap = autofsBays(config).find((b) => b.path === path);
  if (!automap) return [];
  const mapper = automap.mapper;
  const kernel = classifyMapping(mapper, sys.sysRoot);
  if (kernel.kind !== "luks") return [];
  const closed = await cryptsetup(config.tools.cryptsetup, sys.exec).close(
    mapper,
  );
  if (closed === "busy")
    throw new DiskBusyError(
      `/dev/mapper/${mapper} (the disk of ${where}) is not mounted there but is in use (mounted elsewhere, or held by another mapping); find its user with \`fuser -vm /dev/mapper/${mapper}\`, then retry`,
    );
  if (closed === "not-active") return [];
  log.info(`eject: closed /dev/mapper/${mapper} (open, not mounted)`);
  return [`closed /dev/mapper/${mapper}, which was open but not mounted`];
}

/**
 * Waits (up to --wait) until no job uses the disk; returns what the SD said then, or a warning
 * when Bacula could not be asked.
 */
async function waitUntilUnused(
  ctx: ChangerContext,
  volumes: ReadonlySet<string>,
  what: string,
  options: EjectOptions,
): Promise<DriveStatus[] | string> {
  const deadline = Date.now() + options.waitSeconds * 1000;
  for (;;) {
    let status: DriveStatus[];
    try {
      status = await readStorageStatus(ctx.config, ctx.sys.exec);
    } catch (error) {
      const why = errorMessage(error);
      ctx.log.warn(`eject: cannot ask the storage daemon: ${why}`);
      return `could not ask Bacula whether a job uses ${what} (${why}); relying on the kernel, which refuses to unmount a disk with open files`;
    }
    const uses = volumesInUse(status, volumes);
    if (uses.length === 0) return status;
    if (Date.now() >= deadline)
      throw new DiskBusyError(
        `${what} is in use: ${uses.map(describeUse).join("; ")}; nothing was changed: eject it when the job ends${options.waitSeconds > 0 ? "" : " (or pass --wait SECONDS)"}`,
      );
    ctx.log.info(`eject: waiting for ${uses.map(describeUse).join("; ")}`);
    await Bun.sleep((options.pollSeconds ?? 2) * 1000);
  }
}

/**
 * A File device the SD keeps open after its job, with a volume of this disk mounted: `release`
 * makes the SD close it (seen on 9.6.7: after a restore the device stays "mounted with" the
 * volume and the disk cannot be unmounted). `unmount` would leave the drive blocked for later jobs.
 */
async function releaseIdleDevices(
  ctx: ChangerContext,
  status: DriveStatus[],
  volumes: ReadonlySet<string>,
): Promise<void> {
  const storage = quoteName(ctx.config.bacula.storage ?? ctx.config.name);
  for (const d of status) {
    if (
      d.state !== "mounted" ||
      !d.volume ||
      !volumes.has(d.volume) ||
      d.drive === null
    )
      continue;
    await runBconsole(
      ctx.config,
      [`release storage=${storage} drive=${d.drive}`],
      ctx.sys.exec,
    );
    ctx.log.info(
      `eject: released drive ${d.drive} (${d.volume}) in the storage daemon`,
    );
  }
}

/** Unloads every drive that holds a volume of this magazine, the way the SD would. */
async function unloadDrives(
  ctx: ChangerContext,
  uuid: string,
  options: EjectOptions,
): Promise<void> {
  const { config } = ctx;
  const drives = readDrives(config.work_dir);
  for (const [drive, loaded] of drives.entries()) {
    if (!loaded || loaded.magazine !== uuid) continue;
    const r = await options.runSelf([
      "changer",
      config.source,
      "unload",
      String(loaded.slot),
      driveLinkPath(config.work_dir, drive),
      String(drive),
    ]);
    if (r.exitCode !== 0)
      throw new AppError(
        `cannot unload slot ${loaded.slot} (${loaded.barcode}) from drive ${drive}: ${r.stderr.trim() || `exit ${r.exitCode}`}; nothing was unmounted`,
        { exitCode: r.exitCode >= 1 && r.exitCode < 200 ? r.exitCode : 1 },
      );
    ctx.log.info(
      `eject: unloaded slot ${loaded.slot} (${loaded.barcode}) from drive ${drive}`,
    );
  }
}

/**
 * refresh (update slots) through a child that runs as the run-as user, then InChanger=no for
 * each volume of the disk: Bacula 9.6.7's `update slots` on a changer whose slots are all empty
 * stops at "No Volumes found to label, or no barcodes." and leaves them InChanger (seen here).
 * A failure is a warning: the disk is safe to pull either way, and the timer's refresh retries.
 */
async function tellBacula(
  ctx: ChangerContext,
  options: EjectOptions,
  volumes: string[],
): Promise<string[]> {
  const { config } = ctx;
  const r = await options.runSelf(["refresh", "-c", config.source]);
  const lines: string[] = [];
  if (r.exitCode === 0)
    lines.push((r.stdout.trim().split("\n")[0] ?? "Bacula updated").trim());
  else {
    const said = r.stderr.trim().split("\n")[0] ?? `exit ${r.exitCode}`;
    lines.push(
      `WARN: Bacula was not told (${said.replace(/^magchanger: /, "")}); the timer's refresh retries, or run \`magchanger refresh -c ${config.source}\``,
    );
  }
  if (volumes.length === 0 || config.legacy?.bconsole_disabled) return lines;
  try {
    await runBconsole(
      config,
      volumes.map((v) => `update volume=${quoteName(v)} inchanger=no`),
      ctx.sys.exec,
    );
  } catch (error) {
    // A volume the catalog never had ("not found") is no failure: the others were updated.
    const why = errorMessage(error);
    if (!/ not found/.test(why))
      lines.push(
        `WARN: Bacula may still count the volumes of this disk as in the changer (${why})`,
      );
  }
  return lines;
}
