// The changer state as a whole: the lock, the scan that reconciles the registry with the bays,
// the drive links, and `loaded`, which reads one small file without the lock (it is replaced
// atomically). Moving volumes is in moves.ts.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import {
  AppError,
  describeErrno,
  errnoCode,
  StateCorruptError,
  StateReadError,
  StateWriteError,
} from "../errors.ts";
import type { MagazineStatus } from "../disk/discover.ts";
import { noDiskUnlocked } from "../disk/unlocked.ts";
import { replaceSymlink } from "../state/atomic.ts";
import {
  type DriveState,
  driveLinkPath,
  emptyDriveTarget,
  readDrives,
} from "../state/drives.ts";
import { writeConfigCache } from "../config/cache.ts";
import {
  type Registry,
  readRegistry,
  writeRegistry,
} from "../state/registry.ts";
import { syncVchangerDriveLinks } from "../state/vchanger-drives.ts";
import type { ChangerContext } from "./context.ts";
// The scan (disk discovery, adoption, reconcile) and the lock (bun:ffi) are imported where they
// run: `loaded` and a cached `list` never take the lock or scan, and each import is a code
// chunk of its own that start-up would otherwise load (build.ts: splitting).

export interface ChangerView {
  registry: Registry;
  drives: DriveState;
  magazines: MagazineStatus[];
  /** uuid -> status, present magazines only. */
  present: Map<string, MagazineStatus>;
}

export function ensureWorkDir(ctx: ChangerContext): void {
  const dir = ctx.config.work_dir;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (error) {
    throw new StateWriteError(
      `cannot create work dir ${dir}: ${describeErrno(error)}; run \`magchanger setup -c ${ctx.config.source} --write\` as root or create it owned by ${ctx.config.user}:${ctx.config.group}`,
      { cause: error },
    );
  }
}

export async function withLock<T>(
  ctx: ChangerContext,
  action: () => Promise<T> | T,
): Promise<T> {
  ensureWorkDir(ctx);
  const { acquireLock } = await import("../state/lock.ts");
  const lock = acquireLock(
    ctx.config.work_dir,
    ctx.config.lock_timeout,
    ctx.config.name,
  );
  try {
    removeDeadTempFiles(ctx.config.work_dir);
    if (ctx.loadedConfig && !ctx.loadedConfig.cached) {
      writeConfigCache(ctx.loadedConfig);
    }
    return await action();
  } finally {
    lock.release();
  }
}

/**
 * Every state write in the work dir happens under the lock, so a temp file seen while holding it
 * belongs to a writer that was killed mid-write: remove it.
 */
function removeDeadTempFiles(workDir: string): void {
  for (const name of readdirSync(workDir)) {
    if (name.startsWith(".") && /\.tmp-\d+-\d+$/.test(name)) {
      try {
        unlinkSync(join(workDir, name));
      } catch {
        // already gone
      }
    }
  }
}

export function checkDrive(ctx: ChangerContext, drive: number): void {
  const count = ctx.config.drives;
  if (!Number.isInteger(drive) || drive < 0 || drive >= count) {
    throw new AppError(
      `drive ${drive} is out of range: changer ${ctx.config.name} has drives 0..${count - 1} (config key drives)`,
    );
  }
}

/**
 * Every drive path is a symlink or nothing, checked before anything is written: a regular file
 * there is most likely data the SD wrote after the link vanished, and a command that wrote
 * drives.json or another drive's link first would fail with the state already changed.
 */
export function checkDriveLinkPaths(ctx: ChangerContext): void {
  for (let drive = 0; drive < ctx.config.drives; drive++) {
    const link = driveLinkPath(ctx.config.work_dir, drive);
    let what: string;
    try {
      const st = lstatSync(link);
      if (st.isSymbolicLink()) continue;
      what = st.isDirectory()
        ? "a directory"
        : st.isFile()
          ? `a regular file of ${st.size} bytes (perhaps data Bacula wrote there)`
          : "not a symbolic link";
    } catch (error) {
      if (errnoCode(error) === "ENOENT") continue;
      throw new StateReadError(
        `cannot check drive link ${link}: ${describeErrno(error)}; make ${ctx.config.work_dir} readable by the changer's user`,
        { cause: error },
      );
    }
    throw new StateCorruptError(
      `${link} is ${what}, not the symbolic link magchanger keeps there; nothing was changed: move it away (keep it if it holds backup data), then retry`,
    );
  }
}

/** Makes each drive symlink match the drive state (repairs a crash between the two writes). */
export function syncDriveLinks(ctx: ChangerContext, drives: DriveState): void {
  checkDriveLinkPaths(ctx);
  for (let drive = 0; drive < ctx.config.drives; drive++) {
    replaceSymlink(
      driveLinkPath(ctx.config.work_dir, drive),
      drives[drive]?.target ?? emptyDriveTarget(drive),
    );
  }
  const legacy = ctx.config.legacy?.vchanger;
  if (legacy)
    syncVchangerDriveLinks(ctx.config.work_dir, legacy, ctx.config.drives);
}

/** Reads state, scans the magazines and records new or vanished volumes. Call under the lock. */
export async function scanChanger(ctx: ChangerContext): Promise<ChangerView> {
  const registry = readRegistry(ctx.config.work_dir);
  const drives = readDrives(ctx.config.work_dir);
  const [{ probeAll }, { adoptVchangerMagazines }, { reconcileRegistry }] =
    await Promise.all([
      import("../disk/discover.ts"),
      import("./adopt.ts"),
      import("./reconcile.ts"),
    ]);
  const magazines = await probeAll(ctx.config, ctx.sys);
  // vchanger configs only: adopt vchanger's magazines as they are (src/changer/adopt.ts).
  const adopted = adoptVchangerMagazines(ctx, registry, magazines);
  for (const m of magazines) {
    if (m.present) continue;
    const line = `bay ${m.index} (${m.where}) absent: ${m.reason}`;
    if (m.damaged) ctx.log.warn(line);
    else ctx.log.debug(line);
  }
  const result = reconcileRegistry(registry, magazines, ctx.log);
  if (result.changed || adopted) writeRegistry(ctx.config.work_dir, registry);
  syncDriveLinks(ctx, drives);
  const present = new Map<string, MagazineStatus>();
  for (const m of magazines)
    if (m.present && m.identity) present.set(m.identity.uuid, m);
  return { registry, drives, magazines, present };
}

/** The slot in a drive, or 0. A drive whose magazine is not attached reads as empty. */
export function loadedSlot(ctx: ChangerContext, drive: number): number {
  if (drive >= ctx.config.drives) {
    // A drive the config does not have holds nothing. Failing here (as disk-changer does) makes
    // the SD treat the drive's slot as unknown on every volume open.
    ctx.log.warn(
      `loaded: drive ${drive} is not configured (drives = ${ctx.config.drives}); reporting empty: add it to ${ctx.config.source} or remove the Device`,
    );
    return 0;
  }
  checkDrive(ctx, drive);
  const state = readDrives(ctx.config.work_dir)[drive];
  if (!state) return 0;
  const link = driveLinkPath(ctx.config.work_dir, drive);
  // The SD asks after every plug and pull: resolving the link into an autofs bay with no disk
  // would make autofs refuse the next disk's first access for its negative timeout.
  const absent = noDiskUnlocked(ctx.config, state.target, ctx.sys);
  if (absent) {
    ctx.log.info(
      `drive ${drive}: volume ${state.barcode} (slot ${state.slot}) is not reachable (${absent}): reporting empty`,
    );
    return 0;
  }
  try {
    if (readlinkSync(link) === state.target && statSync(link).isFile())
      return state.slot;
    ctx.log.warn(
      `drive ${drive}: ${link} does not point at ${state.target}; reporting empty`,
    );
  } catch (error) {
    ctx.log.info(
      `drive ${drive}: volume ${state.barcode} (slot ${state.slot}) is not reachable (${errnoCode(error)}): magazine absent, reporting empty`,
    );
  }
  return 0;
}
