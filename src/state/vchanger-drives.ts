// vchanger's Archive Device paths, kept working so bacula-sd.conf's Device resources need no
// change: vchanger 1.0's drive N is WORK_DIR/N (a symlink to the volume), vchanger 0.8's is
// WORK_DIR/N/driveN (WORK_DIR/N was a symlink to the magazine, driveN the renamed volume).
// Both become fixed relative symlinks to magchanger's own WORK_DIR/driveN, so they follow every
// load and unload without being rewritten, and resolve only while the right disk is mounted,
// exactly as WORK_DIR/driveN does. A link vchanger left behind is replaced on the first call.
import { lstatSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { errnoCode, StateWriteError } from "../errors.ts";
import { replaceSymlink, syncDirectory, writeFailure } from "./atomic.ts";

export type VchangerLayout = "0.8" | "1.0";

/** Makes vchanger's Archive Device of each drive lead to WORK_DIR/driveN. Writes only to fix. */
export function syncVchangerDriveLinks(
  workDir: string,
  layout: VchangerLayout,
  drives: number,
): void {
  for (let drive = 0; drive < drives; drive++) {
    if (layout === "1.0") {
      replaceSymlink(join(workDir, String(drive)), `drive${drive}`);
      continue;
    }
    const dir = join(workDir, String(drive));
    ensureDirectory(dir);
    replaceSymlink(join(dir, `drive${drive}`), `../drive${drive}`);
  }
}

/** dir as a real directory; vchanger 0.8's symlink to a magazine there is replaced. */
function ensureDirectory(dir: string): void {
  let isLink = false;
  try {
    const st = lstatSync(dir);
    if (st.isDirectory()) return;
    if (!st.isSymbolicLink())
      throw new StateWriteError(
        `${dir} is in the way of vchanger's Archive Device ${dir}/drive${basename(dir)}; move it away`,
      );
    isLink = true;
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw writeFailure(dir, error);
  }
  // Built aside and renamed in: the path is 0.8's link, then the finished directory.
  const temp = join(dirname(dir), `.${basename(dir)}.magchanger-tmp`);
  try {
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { mode: 0o755 });
    if (isLink) rmSync(dir);
    renameSync(temp, dir);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw writeFailure(dir, error);
  }
  syncDirectory(dirname(dir), dir);
}
