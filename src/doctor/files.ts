// Reading what is installed, for doctor's checks: a missing file is an answer, not an error.
import { readFileSync, realpathSync } from "node:fs";

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Do both paths lead to the same file (a link to the binary, say)? */
export function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
