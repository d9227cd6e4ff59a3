// Reading a state file of the work dir: bounded, never through a link, only a regular file
// (a FIFO or a link to /dev/zero would hang `loaded` on every volume open). A file that is
// there but is not a plain file of sane size is corruption (exit 6); one that cannot be read
// (EACCES, EIO) is a read failure (exit 9); a missing one is undefined.
import {
  describeErrno,
  errnoCode,
  StateCorruptError,
  StateReadError,
} from "../errors.ts";
import { readFileBounded } from "./safe-fs.ts";

const NOT_A_PLAIN_FILE = new Set([
  "ELOOP",
  "ENOTREG",
  "EISDIR",
  "EFBIG",
  "EMLINK",
  "ECHANGED",
]);

export function readStateText(
  path: string,
  what: string,
  maxBytes: number,
  fix: string,
): string | undefined {
  return readStateBytes(path, what, maxBytes, fix)?.toString("utf8");
}

/** As readStateText, the bytes as read (no decoding: the registry lookup works on them). */
export function readStateBytes(
  path: string,
  what: string,
  maxBytes: number,
  fix: string,
): Buffer | undefined {
  try {
    return readFileBounded(path, { maxBytes });
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    if (NOT_A_PLAIN_FILE.has(errnoCode(error) ?? ""))
      throw new StateCorruptError(
        `${what} ${path} is corrupt (${describeErrno(error)}); nothing was changed: ${fix}`,
      );
    throw new StateReadError(
      `cannot read ${what} ${path}: ${describeErrno(error)}; make it readable by uid ${process.getuid?.()} (the changer's run-as user)`,
      { cause: error },
    );
  }
}
