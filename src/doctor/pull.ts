// doctor: whether each bay's disk may be pulled now (src/disk/pull-safety.ts).
import type { MagazineStatus } from "../disk/discover.ts";
import { pullSafetyOfBays } from "../disk/pull-safety.ts";
import { readDrives } from "../state/drives.ts";
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
  const view = bays.map((b) => ({
    bay: b.index,
    mountPoint: b.mountPoint,
    uuid: b.identity?.uuid,
  }));
  return pullSafetyOfBays(ctx.config, view, ctx.sys.mounts(), drives).map((p) =>
    ok(`pull bay ${p.bay}`, p.text),
  );
}
