// doctor: whether each bay's disk may be pulled now (src/unlock/pull-safety.ts).
import type { MagazineStatus } from "../disk/discover.ts";
import { readDrives } from "../state/drives.ts";
import { pullSafety } from "../unlock/pull-safety.ts";
import { type Check, ok } from "./check.ts";
import type { DoctorContext } from "./context.ts";

export function pullChecks(
  ctx: DoctorContext,
  bays: MagazineStatus[],
): Check[] {
  let drives: ReturnType<typeof readDrives> = [];
  try {
    drives = readDrives(ctx.config.work_dir);
  } catch {
    // a damaged drives.json is the work dir check's finding
  }
  const mounts = ctx.sys.mounts();
  return bays
    .filter((b) => !b.spec.allow_unmounted)
    .map((b) =>
      ok(`pull bay ${b.index}`, pullSafety(ctx.config, b, mounts, drives).text),
    );
}
