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
  let fd: number;
  try {
    fd = openSync(file, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  } catch (error) {
    throw cannotRead(file, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      throw cannotRead(file, new Error("not a regular file"));
    if (root) checkTrusted(file, stats);
    if (stats.size > MAX_CONFIG_BYTES)
      throw cannotRead(
        file,
        new Error(`larger than ${MAX_CONFIG_BYTES} bytes`),
      );
    try {
      return readFdBounded(fd, file, MAX_CONFIG_BYTES).toString("utf8");
    } catch (error) {
      throw cannotRead(file, error);
    }
  } finally {
    closeSync(fd);
  }
}

function checkTrusted(
  file: string,
  stats: { uid: number; mode: number; dev: number; ino: number },
): void {
  // The path first: its advice must never be to chown or chmod through someone's link.
  let why: string | undefined;
  try {
    // A link is checked with what it leads to; a plain file's owner and mode on the fd below.
    const link = lstatSync(file).isSymbolicLink();
    why = untrustedComponent(link ? file : dirname(resolve(file)));
    const now = statSync(file);
    if (why === undefined && (now.dev !== stats.dev || now.ino !== stats.ino))
      why = "it was replaced while being read";
  } catch (error) {
    why = `its path cannot be checked: ${describeErrno(error)}`;
  }
  if (why !== undefined)
    throw new UntrustedConfigError(file, why, fixFor(why, file));
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
