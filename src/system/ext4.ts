// Blocks an ext2/3/4 filesystem reserves for root, read from its superblock (what `tune2fs -l`
// prints as "Reserved block count"). statfs alone cannot tell them apart: bfree - bavail also
// counts ext4's own reserve for delayed allocation (2% or 4096 clusters), which stays after
// `tune2fs -m 0`.
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  statfsSync,
  statSync,
} from "node:fs";
import { majorMinorOf, type MountEntry } from "./mounts.ts";

const SUPERBLOCK_OFFSET = 1024;
const EXT_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;

/** The superblock's size: the most read from a device. */
export const SUPERBLOCK_BYTES = 1024;

/**
 * Root-reserved bytes of the ext filesystem on device, or undefined when it cannot be read. Only
 * the block device the mount table gives for that very mount (majorMinor) is opened: a mount's
 * source is text, and opening another device node can be an action in itself.
 */
export function ext4ReservedBytes(
  device: string,
  majorMinor: string,
): number | undefined {
  const sb = Buffer.alloc(SUPERBLOCK_BYTES);
  const isTheDevice = (s: { rdev: number; isBlockDevice(): boolean }) =>
    s.isBlockDevice() && majorMinorOf(s.rdev) === majorMinor;
  let fd: number | undefined;
  try {
    if (!isTheDevice(statSync(device))) return undefined;
    fd = openSync(
      device,
      constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
    if (!isTheDevice(fstatSync(fd))) return undefined;
    if (readSync(fd, sb, 0, sb.length, SUPERBLOCK_OFFSET) !== sb.length)
      return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return superblockReservedBytes(sb);
}

/** Root-reserved bytes an ext superblock records, or undefined when sb is none. */
export function superblockReservedBytes(sb: Buffer): number | undefined {
  if (sb.readUInt16LE(0x38) !== EXT_MAGIC) return undefined;
  const blockSize = 1024 * 2 ** sb.readUInt32LE(0x18);
  const high =
    sb.readUInt32LE(0x60) & INCOMPAT_64BIT ? sb.readUInt32LE(0x154) : 0;
  return (high * 2 ** 32 + sb.readUInt32LE(0x08)) * blockSize;
}

/**
 * Without the superblock (not root: `magazine list` after the privilege drop): the statfs gap
 * less ext4's own reserve, which the kernel sets to min(2% of the blocks, 4096 clusters)
 * (ext4_calculate_resv_clusters), so the figure matches what doctor reads from the superblock.
 * A remainder under 1% of the blocks is that reserve's rounding (statfs counts fewer blocks than
 * the superblock on a small filesystem): a filesystem made with -m 0 is not reported.
 */
export function estimatedReservedBytes(
  blocks: number,
  bfree: number,
  bavail: number,
  bsize: number,
): number {
  const ownReserve = Math.min(Math.floor(blocks / 50), 4096);
  const reserved = bfree - bavail - ownReserve;
  return reserved > blocks * 0.01 ? reserved * bsize : 0;
}

export interface FilesystemSpace {
  /** The mount holding the path (by device number), when found. */
  device: string | undefined;
  fsType: string | undefined;
  fsMountPoint: string | undefined;
  blockSize: number;
  totalBytes: number;
  freeBytes: number;
  availableBytes: number;
  /** Root-reserved bytes: the superblock when readable, else the statfs estimate. */
  reservedBytes: number;
}

/**
 * The one computation of a filesystem's figures that doctor and `magazine list` print, so they
 * never disagree: the mount found by the path's device number, the superblock's reserve for a
 * real ext device (root), else statfs less ext4's own reserve; 0 when statfs shows no gap.
 */
export function filesystemSpace(
  path: string,
  mounts: MountEntry[],
): FilesystemSpace {
  const majorMinor = majorMinorOf(statSync(path).dev);
  const mount = mounts.findLast((m) => m.majorMinor === majorMinor);
  const fs = statfsSync(path);
  const bsize = Number(fs.bsize);
  const device = mount?.source;
  const isExt = /^ext[234]$/.test(mount?.fsType ?? "");
  const reservedBytes =
    Number(fs.bfree) <= Number(fs.bavail)
      ? 0
      : // Only a real ext filesystem's device: a FUSE mount may name any source.
        ((isExt && device?.startsWith("/dev/")
          ? ext4ReservedBytes(device, majorMinor)
          : undefined) ??
        estimatedReservedBytes(
          Number(fs.blocks),
          Number(fs.bfree),
          Number(fs.bavail),
          bsize,
        ));
  return {
    device,
    fsType: mount?.fsType,
    fsMountPoint: mount?.mountPoint,
    blockSize: bsize,
    totalBytes: Number(fs.blocks) * bsize,
    freeBytes: Number(fs.bfree) * bsize,
    availableBytes: Number(fs.bavail) * bsize,
    reservedBytes,
  };
}
