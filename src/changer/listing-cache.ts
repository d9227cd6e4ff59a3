// The listing cache: `list`, `listall` and `slots` run on every `update slots` and often
// between jobs, and with many volumes most of their time is the directory scan and the slot
// registry. When nothing they depend on changed since the last scan, the answer is the last
// answer. What they depend on, each checked with a stat (no directory read, no lock):
// - the config text (its digest) and the slot registry (replaced by rename: a new inode on
//   every write);
// - each bay: device, inode and mtime of the mount point (any file added, removed or renamed
//   on the magazine changes its mtime; another disk changes device/inode), whether it is a
//   mount point, and the identity directory recorded for it.
// `listall` is the cached slot lines with the drive state, read fresh on every call, patched in.
// Like git's racy-index rule, a bay modified less than RACY_NS before the scan that produced
// the answer is never trusted (a change in the same timestamp tick would be invisible), and
// only path bays qualify (uuid/label bays need blkid; vchanger automount dirs need a lookup).
//
// File: one JSON header line, the `list` answer, then listall's S: lines as if every drive
// were empty (the header gives the length of the `list` part).
import { type BigIntStats, lstatSync, readlinkSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../state/atomic.ts";
import { readFileBounded } from "../state/safe-fs.ts";
import {
  type DriveState,
  driveLinkPath,
  emptyDriveTarget,
  readDrives,
} from "../state/drives.ts";
import { registryPath } from "../state/registry.ts";
import { IDENTITY_PREFIX } from "./barcode.ts";
import type { ChangerContext } from "./context.ts";
import type { ChangerView } from "./operations.ts";
import { formatListAll, formatSlots } from "./protocol.ts";

const RACY_NS = 3_000_000_000n;
const FILE = "listing.cache";
/** Far above the answer for thousands of volumes; the work dir is the run-as user's. */
const MAX_CACHE_BYTES = 16 * 1024 * 1024;

interface BayStamp {
  stamp: string | null;
  mounted: boolean;
  identity: string | null;
}

interface CacheHeader {
  version: 3;
  config: string;
  registry: string | null;
  bays: BayStamp[];
  slots: number;
  listLength: number;
}

export type ListingCommand = "list" | "listall" | "slots";

function fileStamp(path: string): string | null {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return null;
  }
}

function bayStat(
  path: string,
): { st: BigIntStats; mounted: boolean } | undefined {
  try {
    const st = statSync(path, { bigint: true });
    const parent = statSync(dirname(path), { bigint: true });
    return { st, mounted: parent.dev !== st.dev || parent.ino === st.ino };
  } catch {
    return undefined;
  }
}

/** True when the cache can answer for this config at all. */
function eligible(ctx: ChangerContext): boolean {
  return (
    ctx.loadedConfig !== undefined &&
    !ctx.config.legacy?.automount_dir &&
    ctx.config.magazine.every((m) => m.path !== undefined)
  );
}

/** The cached answer, when everything it depends on is unchanged; undefined otherwise. */
export function cachedListing(
  ctx: ChangerContext,
  command: ListingCommand,
): string | undefined {
  if (!eligible(ctx)) return undefined;
  const workDir = ctx.config.work_dir;
  let text: string;
  try {
    // Never through a link, never blocking on a FIFO: this runs without the lock.
    text = readFileBounded(join(workDir, FILE), {
      maxBytes: MAX_CACHE_BYTES,
    }).toString("latin1");
  } catch {
    return undefined;
  }
  const cut = text.indexOf("\n");
  let header: CacheHeader;
  try {
    header = JSON.parse(text.slice(0, cut)) as CacheHeader;
  } catch {
    return undefined;
  }
  if (header.version !== 3 || header.config !== ctx.loadedConfig?.digest)
    return undefined;
  if (header.bays.length !== ctx.config.magazine.length) return undefined;
  if (fileStamp(registryPath(workDir)) !== header.registry) return undefined;
  for (let i = 0; i < header.bays.length; i++) {
    const recorded = header.bays[i] as BayStamp;
    const path = ctx.config.magazine[i]?.path as string;
    const now = bayStat(path);
    const stamp = now ? `${now.st.dev}:${now.st.ino}:${now.st.mtimeNs}` : null;
    if (
      stamp !== recorded.stamp ||
      (now?.mounted ?? false) !== recorded.mounted
    )
      return undefined;
    if (recorded.identity) {
      try {
        // lstat: an identity swapped for a link is no identity (the scan refuses it).
        if (
          !lstatSync(
            join(path, `${IDENTITY_PREFIX}${recorded.identity}`),
          ).isDirectory()
        )
          return undefined;
      } catch {
        return undefined;
      }
    }
  }
  // A drive link that disagrees with the drive state (a writer killed between the two) is
  // repaired by the locked path: take it.
  const drives = readDrives(workDir);
  for (let drive = 0; drive < ctx.config.drives; drive++) {
    try {
      const expected = drives[drive]?.target ?? emptyDriveTarget(drive);
      if (readlinkSync(driveLinkPath(workDir, drive)) !== expected)
        return undefined;
    } catch {
      return undefined;
    }
  }
  const list = text.slice(cut + 1, cut + 1 + header.listLength);
  if (command === "list") return list;
  if (command === "slots") return `${header.slots}\n`;
  const slotLines = text.slice(cut + 1 + header.listLength);
  return patchListAll(list, slotLines, drives, ctx.config.drives);
}

/** The line of `slot` in a text of `N:...` or `S:N:...` lines, as [start, end) or undefined. */
function lineOf(text: string, prefix: string): [number, number] | undefined {
  const start = text.startsWith(prefix) ? 0 : text.indexOf(`\n${prefix}`) + 1;
  if (start === 0 && !text.startsWith(prefix)) return undefined;
  const end = text.indexOf("\n", start);
  return [start, end < 0 ? text.length : end];
}

/** listall from the cached S: lines: D: lines for the drives, their slots shown empty. */
function patchListAll(
  list: string,
  slotLines: string,
  drives: DriveState,
  driveCount: number,
): string {
  const dLines: string[] = [];
  let slots = slotLines;
  for (let drive = 0; drive < driveCount; drive++) {
    const state = drives[drive];
    const at = state ? lineOf(list, `${state.slot}:`) : undefined;
    const barcode = at
      ? list.slice(at[0] + `${state?.slot}:`.length, at[1])
      : "";
    if (state && barcode !== "" && barcode === state.barcode) {
      dLines.push(`D:${drive}:F:${state.slot}:${barcode}\n`);
      const line = lineOf(slots, `S:${state.slot}:F:`);
      if (line)
        slots = `${slots.slice(0, line[0])}S:${state.slot}:E${slots.slice(line[1])}`;
    } else {
      dLines.push(`D:${drive}:E\n`);
    }
  }
  return dLines.join("") + slots;
}

/**
 * Records the `list` answer of a scan just made under the lock. Skipped when a bay changed too
 * recently to be trusted, or the config does not qualify. Best effort: a failure costs speed.
 */
export function storeListing(
  ctx: ChangerContext,
  view: ChangerView,
  list: string,
): void {
  if (!eligible(ctx)) return;
  const workDir = ctx.config.work_dir;
  const now = BigInt(Date.now()) * 1_000_000n;
  const bays: BayStamp[] = [];
  for (const [i, spec] of ctx.config.magazine.entries()) {
    const found = bayStat(spec.path as string);
    if (found && now - found.st.mtimeNs < RACY_NS) return;
    const status = view.magazines[i];
    bays.push({
      stamp: found
        ? `${found.st.dev}:${found.st.ino}:${found.st.mtimeNs}`
        : null,
      mounted: found?.mounted ?? false,
      identity:
        status?.present && status.identity ? status.identity.uuid : null,
    });
  }
  const header: CacheHeader = {
    version: 3,
    config: ctx.loadedConfig?.digest as string,
    registry: fileStamp(registryPath(workDir)),
    bays,
    slots: Number(formatSlots(view).trim()),
    listLength: list.length,
  };
  const slotLines = formatListAll(view, 0); // S: lines as if every drive were empty
  try {
    writeFileAtomic(
      join(workDir, FILE),
      `${JSON.stringify(header)}\n${list}${slotLines}`,
      0o644,
      false,
    );
  } catch (error) {
    ctx.log.debug(`listing cache not written: ${(error as Error).message}`);
  }
}
