// Reading a config file's text. A config names the programs magchanger runs (bconsole,
// cryptsetup, blkid, umount) and the user it runs as, so as root it is used only when root alone
// controls it: the open file root's, regular, not writable by group or others, and every
// directory above it (and every link on the way) root's and not group/other writable. The checks
// are made on the open fd, and the path is checked to still name that file, so nothing can be
// swapped in between. Without root a config is the caller's own business, but it is still read
// bounded and only when it is a regular file: a FIFO or /dev/zero as the config must not hang.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  statSync,
} from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError, describeErrno } from "../errors.ts";
import { readFdBounded, untrustedComponent } from "../state/safe-fs.ts";

/** Far above any real config (a few KiB); small enough that reading it is instant. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const { O_RDONLY, O_NONBLOCK, O_NOCTTY } = constants;

/** A config root refuses to use: the message names the file, what is wrong and the fix. */
export class UntrustedConfigError extends ConfigError {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(
      `refusing config ${file}: ${problem}, and it names programs root runs; run: ${fix}`,
    );
  }
}

/** The text of config file: trusted as described above when running as root. */
export function readConfigSource(
  file: string,
  root = process.geteuid?.() === 0,
): string {
  // Opening acts on a device (a tape rewinds, a FIFO's writer wakes): look before opening, and
  // as root open nothing reached through a path someone else controls.
  let before: { dev: number; ino: number; uid: number; mode: number };
  let link = false;
  try {
    const stats = statSync(file);
    before = stats;
    if (!stats.isFile())
      throw cannotRead(file, new Error("not a regular file"));
    link = lstatSync(file).isSymbolicLink();
  } catch (error) {
    throw error instanceof ConfigError ? error : cannotRead(file, error);
  }
  if (root) {
    checkPath(file);
    // Only root's file: in a sticky directory (/tmp) its owner could rename a FIFO or a link to
    // a device over it between this look and the open.
    checkOwner(file, before);
  }
  let fd: number;
  try {
    // A link was checked as root's in root's directory; anything else is not followed.
    fd = openSync(
      file,
      O_RDONLY | O_NONBLOCK | O_NOCTTY | (link ? 0 : constants.O_NOFOLLOW),
    );
  } catch (error) {
    throw cannotRead(file, error);
  }
  let bytes: Buffer;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      throw cannotRead(file, new Error("not a regular file"));
    if (stats.dev !== before.dev || stats.ino !== before.ino)
      throw cannotRead(file, new Error("it was replaced while being opened"));
    if (root) checkTrusted(file, stats);
    if (stats.size > MAX_CONFIG_BYTES)
      throw cannotRead(
        file,
        new Error(`larger than ${MAX_CONFIG_BYTES} bytes`),
      );
    try {
      bytes = readFdBounded(fd, file, MAX_CONFIG_BYTES, stats.size);
    } catch (error) {
      throw cannotRead(file, error);
    }
  } finally {
    closeSync(fd);
  }
  return decodeConfigText(bytes, file);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A config's bytes as text. Not UTF-8 is an error naming the line and the byte: decoding it to
 * U+FFFD would silently turn a path like `w\xe9rk` into another path.
 */
export function decodeConfigText(bytes: Uint8Array, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, at);
    const line = before.filter((b) => b === 0x0a).length + 1;
    const column = at - (before.lastIndexOf(0x0a) + 1) + 1;
    const hex = (bytes[at] ?? 0).toString(16).padStart(2, "0");
    throw new ConfigError(
      `config ${file} line ${line}: byte 0x${hex} at column ${column} is not UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
    );
  }
}

/** A lead byte's sequence length and the range its second byte must be in (RFC 3629). */
function utf8Lead(b: number): [number, number, number] {
  if (b < 0x80) return [1, 0, 0];
  if (b >= 0xc2 && b <= 0xdf) return [2, 0x80, 0xbf];
  if (b === 0xe0) return [3, 0xa0, 0xbf]; // no overlong forms
  if (b === 0xed) return [3, 0x80, 0x9f]; // no surrogates
  if (b >= 0xe1 && b <= 0xef) return [3, 0x80, 0xbf];
  if (b === 0xf0) return [4, 0x90, 0xbf];
  if (b >= 0xf1 && b <= 0xf3) return [4, 0x80, 0xbf];
  if (b === 0xf4) return [4, 0x80, 0x8f]; // nothing above U+10FFFF
  return [0, 0, 0];
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const [length, low, high] = utf8Lead(bytes[i] as number);
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      const [lo, hi] = k === 1 ? [low, high] : [0x80, 0xbf];
      if (c === undefined || c < lo || c > hi) return i;
    }
    i += length;
  }
  return bytes.length;
}

function checkTrusted(
  file: string,
  stats: { uid: number; mode: number; dev: number; ino: number },
): void {
  // The path first: its advice must never be to chown or chmod through someone's link.
  checkPath(file, stats);
  checkOwner(file, stats);
}

/** The file is root's and not group/other writable. */
function checkOwner(file: string, stats: { uid: number; mode: number }): void {
  if (stats.uid !== 0)
    throw new UntrustedConfigError(
      file,
      `owned by uid ${stats.uid}, not root`,
      `chown root:root ${file}; chmod go-w ${file}`,
    );
  if ((stats.mode & 0o022) !== 0)
    throw new UntrustedConfigError(
      file,
      `group/other may write it (mode ${(stats.mode & 0o7777).toString(8)})`,
      `chmod go-w ${file}`,
    );
}

/**
 * Every directory and link on the way to file is root's alone; with stats (the open file's),
 * the path still names that file.
 */
function checkPath(file: string, stats?: { dev: number; ino: number }): void {
  let why: string | undefined;
  try {
    // A link is checked with what it leads to; a plain file's owner and mode on the fd.
    const link = lstatSync(file).isSymbolicLink();
    why = untrustedComponent(link ? file : dirname(resolve(file)));
    const now = statSync(file);
    if (
      why === undefined &&
      stats !== undefined &&
      (now.dev !== stats.dev || now.ino !== stats.ino)
    )
      why = "it was replaced while being read";
  } catch (error) {
    why = `its path cannot be checked: ${describeErrno(error)}`;
  }
  if (why !== undefined)
    throw new UntrustedConfigError(file, why, fixFor(why, file));
}

/** The command that makes the component untrustedComponent named root's alone. */
function fixFor(why: string, file: string): string {
  const at =
    /^(.*) is (?:a symbolic link owned by uid \d+|owned by uid \d+, not root|writable by .*|not a directory)$/.exec(
      why,
    )?.[1];
  if (at === undefined)
    return `keep ${file} in a directory only root can change, e.g. /etc/magchanger`;
  if (why.startsWith(`${at} is a symbolic link`))
    return `replace the link ${at} with a root-owned file or link, or move the config to /etc/magchanger`;
  return `chown root:root ${at}; chmod go-w ${at} (or move the config to /etc/magchanger)`;
}

function cannotRead(file: string, error: unknown): ConfigError {
  return new ConfigError(
    `cannot read config ${file}: ${describeErrno(error)}; pass the changer's .toml file (see conf/magchanger.toml)`,
    { cause: error },
  );
}
