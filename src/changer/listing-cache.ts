// The listing cache: `list`, `listall` and `slots` run on every `update slots` and often
// between jobs, and with many volumes most of their time is the directory scan and the slot
// registry. When nothing they depend on changed since the last scan, the answer is the last
// answer. What they depend on, each checked with a stat (no directory read, no lock):
// - the config text (its digest) and the slot registry (replaced by rename: a new inode on
//   every write);
// - each bay: device, inode and mtime of the mount point (any file added, removed or renamed
//   on the magazine changes its mtime; another disk changes device/inode), whether it is a
//   mount point, the identity directory recorded for it and its magazine.json's bytes (an edit
//   in place changes no directory entry: one small bounded read per identity tells).
// `listall` is the cached slot lines with the drive state, read fresh on every call, patched in.
// Like git's racy-index rule, a bay modified less than RACY_NS before the scan that produced
// the answer is never trusted (a change in the same timestamp tick would be invisible), and
// only path bays qualify (uuid/label bays need blkid; vchanger automount dirs need a lookup).
//
// File format in listing-cache-file.ts: a cache that is not whole (length and CRC-32 of the
// body, a header of the right shape) is simply not used; the next locked scan rewrites it.
import {
  type BigIntStats,
  lstatSync,
  readdirSync,
  readlinkSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { MagazineStatus } from "../disk/discover.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readFileBounded } from "../state/safe-fs.ts";
import {
  driveLinkPath,
  emptyDriveTarget,
  readDrives,
} from "../state/drives.ts";
import { registryPath } from "../state/registry.ts";
import { mountedOn } from "../system/mounts.ts";
import { IDENTITY_PREFIX } from "../disk/barcode.ts";
import type { ChangerContext } from "./context.ts";
import {
  type BayStamp,
  fingerprint,
  type IdentityStamp,
  parseCacheFile,
  patchListAll,
  readIdentityBytes,
  serializeCacheFile,
} from "./listing-cache-file.ts";
import type { ChangerView } from "./operations.ts";
import { formatListAll, formatSlots } from "./protocol.ts";

const RACY_NS = 3_000_000_000n;
const FILE = "listing.cache";
/** Far above the answer for thousands of volumes; the work dir is the run-as user's. */
export const MAX_CACHE_BYTES = 16 * 1024 * 1024;

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
    return { st, mounted: mountedOn(st, parent) };
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

/**
 * The cached answer, when everything it depends on is unchanged; undefined otherwise. `list`'s
 * is the cached bytes themselves (no decoded copy of a listing of 100,000 volumes).
 */
export function cachedListing(
  ctx: ChangerContext,
  command: ListingCommand,
): string | Buffer | undefined {
  if (!eligible(ctx)) return undefined;
  try {
    return answerFromCache(ctx, command);
  } catch (error) {
    // A cache is only ever a shortcut: whatever went wrong, the scan answers.
    ctx.log.debug(`listing cache not used: ${(error as Error).message}`);
    return undefined;
  }
}

function answerFromCache(
  ctx: ChangerContext,
  command: ListingCommand,
): string | Buffer | undefined {
  const workDir = ctx.config.work_dir;
  let bytes: Buffer;
  try {
    // Never through a link, never blocking on a FIFO: this runs without the lock.
    bytes = readFileBounded(join(workDir, FILE), { maxBytes: MAX_CACHE_BYTES });
  } catch {
    return undefined;
  }
  const file = parseCacheFile(bytes);
  if (!file) return undefined;
  const { header, body } = file;
  if (header.config !== ctx.loadedConfig?.digest) return undefined;
  if (header.bays.length !== ctx.config.magazine.length) return undefined;
  if (fileStamp(registryPath(workDir)) !== header.registry) return undefined;
  for (const [i, recorded] of header.bays.entries()) {
    if (!bayUnchanged(ctx.config.magazine[i]?.path as string, recorded))
      return undefined;
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
  if (command === "list") return body.subarray(0, header.listLength);
  if (command === "slots") return `${header.slots}\n`;
  const list = body.toString("latin1", 0, header.listLength);
  const slotLines = body.toString("latin1", header.listLength);
  return patchListAll(list, slotLines, drives, ctx.config.drives);
}

function bayUnchanged(path: string, recorded: BayStamp): boolean {
  const now = bayStat(path);
  const stamp = now ? `${now.st.dev}:${now.st.ino}:${now.st.mtimeNs}` : null;
  if (stamp !== recorded.stamp || (now?.mounted ?? false) !== recorded.mounted)
    return false;
  if (recorded.identity) {
    try {
      // lstat: an identity swapped for a link is no identity (the scan refuses it).
      const dir = join(path, `${IDENTITY_PREFIX}${recorded.identity}`);
      if (!lstatSync(dir).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return recorded.identities.every(
    (id) =>
      fingerprint(readIdentityBytes(join(path, id.name, "magazine.json"))) ===
      id.seen,
  );
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
    const identities = identityStamps(spec.path as string, status, found, now);
    if (!identities) return;
    bays.push({
      stamp: found
        ? `${found.st.dev}:${found.st.ino}:${found.st.mtimeNs}`
        : null,
      mounted: found?.mounted ?? false,
      identity:
        status?.present && status.identity ? status.identity.uuid : null,
      identities,
    });
  }
  const header = {
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
      serializeCacheFile(header, `${list}${slotLines}`),
      0o644,
      false,
    );
  } catch (error) {
    ctx.log.debug(`listing cache not written: ${(error as Error).message}`);
  }
}

/** The projection of an identity the scan's answer depends on. */
const USED_FIELDS = ["uuid", "changer", "number", "lastVolume", "vchanger"];
const used = (identity: unknown) =>
  JSON.stringify(
    USED_FIELDS.map((k) => (identity as Record<string, unknown> | null)?.[k]),
  );

/**
 * The identity files a bay's answer was made from, or undefined when they cannot be trusted to
 * be what the scan read. A present magazine's must still say what the scan used (it is the
 * disk owner's, and may have been edited since); an absent bay's identity directories are
 * listed (a directory read: the slow path only) and must not have changed too recently.
 */
function identityStamps(
  path: string,
  status: MagazineStatus | undefined,
  found: { st: BigIntStats } | undefined,
  now: bigint,
): IdentityStamp[] | undefined {
  if (status?.present && status.identity) {
    const name = `${IDENTITY_PREFIX}${status.identity.uuid}`;
    const bytes = readIdentityBytes(join(path, name, "magazine.json"));
    try {
      if (
        !bytes ||
        used(JSON.parse(bytes.toString("utf8"))) !== used(status.identity)
      )
        return undefined;
    } catch {
      return undefined;
    }
    return [{ name, seen: fingerprint(bytes) }];
  }
  if (!found?.st.isDirectory()) return [];
  let names: string[];
  try {
    names = readdirSync(path).filter((n) => n.startsWith(IDENTITY_PREFIX));
  } catch {
    return undefined;
  }
  const stamps: IdentityStamp[] = [];
  for (const name of names) {
    const file = join(path, name, "magazine.json");
    try {
      if (now - lstatSync(file, { bigint: true }).mtimeNs < RACY_NS)
        return undefined;
    } catch {
      // nothing there to read: fingerprinted as unreadable
    }
    stamps.push({ name, seen: fingerprint(readIdentityBytes(file)) });
  }
  return stamps;
}
