// Blocks an ext2/3/4 filesystem reserves for root, read from its superblock (what `tune2fs -l`
// prints as "Reserved block count"). statfs alone cannot tell them apart: bfree - bavail also
// counts ext4's own reserve for delayed allocation (2% or 4096 clusters), which stays after
// `tune2fs -m 0`.
import { closeSync, openSync, readSync } from "node:fs";

const SUPERBLOCK_OFFSET = 1024;
const EXT_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;

/** Root-reserved bytes of the ext filesystem on device, or undefined when it cannot be read. */
export function ext4ReservedBytes(device: string): number | undefined {
  const sb = Buffer.alloc(1024);
  let fd: number | undefined;
  try {
    fd = openSync(device, "r");
    if (readSync(fd, sb, 0, sb.length, SUPERBLOCK_OFFSET) !== sb.length)
      return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (sb.readUInt16LE(0x38) !== EXT_MAGIC) return undefined;
  const blockSize = 1024 * 2 ** sb.readUInt32LE(0x18);
  const high =
    sb.readUInt32LE(0x60) & INCOMPAT_64BIT ? sb.readUInt32LE(0x154) : 0;
  return (high * 2 ** 32 + sb.readUInt32LE(0x08)) * blockSize;
}

/**
 * Without the superblock (not root): the statfs gap less what ext4 keeps for itself, so a
 * filesystem made with -m 0 is not reported. Approximate; doctor as root reads the exact figure.
 */
export function estimatedReservedBytes(
  blocks: number,
  bfree: number,
  bavail: number,
  bsize: number,
): number {
  const gap = bfree - bavail;
  return gap > blocks * 0.03 ? gap * bsize : 0;
}
