// `magazine list`: what each bay holds, from the run-as user's point of view, including the
// seed's trap (blocks reserved for root that the bacula user cannot use). Reads only.
import type { ChangerContext } from "../changer/context.ts";
import { formatBytes } from "../text.ts";
import { type Registry, readRegistry } from "../state/registry.ts";
import type { MountEntry } from "../system/mounts.ts";
import { unlabeledAdvice, withDataAdvice } from "./advice.ts";
import { filesystemSpace } from "../system/ext4.ts";
import {
  unlabeledAtLastRefresh,
  withDataAtLastRefresh,
} from "./refresh-state.ts";
import { printable, quoted } from "../text.ts";
import { type MagazineStatus, probeAll } from "../disk/discover.ts";
import { magazineRef } from "../disk/magazine-name.ts";
import { describeMagazine } from "../events/types.ts";
import { describeRotation, type RotationFact } from "../changer/rotation.ts";

export interface MagazineReport {
  bay: number;
  where: string;
  present: boolean;
  reason?: string;
  mountPoint?: string;
  device?: string;
  fsType?: string;
  /** Where the filesystem holding the magazine is mounted (the bay itself for a disk). */
  fsMountPoint?: string;
  magazine?: number;
  name?: string;
  /** The disk's filesystem label, as its identity recorded it. */
  label?: string;
  uuid?: string;
  /** When refresh (or init) last saw it arrive (WORK_DIR/magazines.json). */
  attachedAt?: string;
  /** How long it has been attached, against [rotation] max_days_attached. */
  rotation?: RotationFigures;
  volumes?: number;
  unregistered?: number;
  slots?: { first: number; last: number; count: number };
  space?: {
    availableBytes: number;
    freeBytes: number;
    reservedBytes: number;
    totalBytes: number;
  };
  warnings: string[];
}

/** A magazine's stay in a bay, or away from one (changer/rotation.ts), as the listings show it. */
export type RotationFigures = Omit<RotationFact, "magazine" | "bay"> & {
  since: string;
  seconds: number;
  days: number;
};

export async function magazineReports(
  ctx: ChangerContext,
): Promise<MagazineReport[]> {
  const registry = readRegistry(ctx.config.work_dir);
  const statuses = await probeAll(ctx.config, ctx.sys);
  const mounts = ctx.sys.mounts();
  return statuses.map((status) => {
    const report: MagazineReport = {
      bay: status.index,
      where: status.where,
      present: status.present,
      warnings: [],
    };
    if (status.reason) report.reason = status.reason;
    if (status.mountPoint) report.mountPoint = status.mountPoint;
    if (status.present && status.mountPoint)
      addSpace(report, status.mountPoint, mounts, ctx.config.user);
    if (status.identity) addContent(report, status, registry);
    return report;
  });
}

/** The filesystem's figures, and the warning when root's reserve is space the user lacks. */
function addSpace(
  report: MagazineReport,
  mountPoint: string,
  mounts: MountEntry[],
  user: string,
): void {
  try {
    const fs = filesystemSpace(mountPoint, mounts);
    if (fs.device !== undefined) report.device = fs.device;
    if (fs.fsType !== undefined) report.fsType = fs.fsType;
    if (fs.fsMountPoint !== undefined) report.fsMountPoint = fs.fsMountPoint;
    const space = {
      availableBytes: fs.availableBytes,
      freeBytes: fs.freeBytes,
      reservedBytes: fs.reservedBytes,
      totalBytes: fs.totalBytes,
    };
    report.space = space;
    // Only for a magazine that is a whole filesystem (a disk): a directory on a shared
    // filesystem leaves root's reserve there alone.
    const wholeDisk =
      fs.fsMountPoint !== undefined && fs.fsMountPoint === mountPoint;
    if (user !== "root" && wholeDisk && space.reservedBytes > 0) {
      report.warnings.push(
        `${formatBytes(space.reservedBytes)} are reserved for root, which ${user} cannot use; run \`tune2fs -m 0 ${report.device ?? "DEVICE"}\``,
      );
    }
  } catch (error) {
    report.warnings.push(`cannot measure space: ${(error as Error).message}`);
  }
}

/** Which magazine the bay holds, its volumes and the slots the registry gives them. */
function addContent(
  report: MagazineReport,
  status: MagazineStatus,
  registry: Registry,
): void {
  if (!status.identity) return;
  const { uuid, number, name, label } = status.identity;
  report.magazine = number;
  if (name !== undefined) report.name = name;
  if (label !== undefined) report.label = label;
  report.uuid = uuid;
  report.volumes = status.volumes.length;
  const slots = [...registry.slots.values()]
    .filter((e) => e.magazine === uuid)
    .map((e) => e.slot);
  report.unregistered = status.volumes.length - slots.length;
  if (slots.length)
    report.slots = {
      first: Math.min(...slots),
      last: Math.max(...slots),
      count: slots.length,
    };
  if (status.ignored.length)
    report.warnings.push(
      `${status.ignored.length} entries are not volumes: ${status.ignored.slice(0, 5).map(quoted).join(", ")}`,
    );
}

export function formatReports(reports: MagazineReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    if (!r.present) {
      lines.push(`bay ${r.bay} ${r.where}: absent (${r.reason})`);
      continue;
    }
    const slots = r.slots
      ? `slots ${r.slots.first}..${r.slots.last}`
      : "no slots yet";
    lines.push(
      `bay ${r.bay} ${r.where}: ${describeMagazine(magazineRef({ ...r, number: r.magazine ?? 0, uuid: r.uuid ?? "" }))}, ${r.volumes} volumes, ${slots}`,
    );
    if (r.device)
      lines.push(
        `  device ${r.device} (${r.fsType}) mounted at ${r.fsMountPoint}`,
      );
    if (r.space)
      lines.push(
        `  space for the run-as user: ${formatBytes(r.space.availableBytes)} of ${formatBytes(r.space.totalBytes)}`,
      );
    if (r.unregistered)
      lines.push(
        `  ${r.unregistered} volumes have no slot yet: run \`magchanger refresh\` (or the changer's list)`,
      );
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
    if (r.attachedAt)
      lines.push(
        `  attached since ${r.attachedAt}${r.rotation ? describeRotation(r.rotation) : ""}`,
      );
  }
  // Reasons and warnings carry names from the disk: no control character reaches the terminal.
  return `${lines.map(printable).join("\n")}\n`;
}

/**
 * "WARN: N volumes are not labeled in Bacula" with the fix, from what the last refresh learned
 * (refresh.json: no bconsole call, so `magazine list` stays quick); undefined when none are.
 */
export function labelWarning(ctx: ChangerContext): string | undefined {
  let unlabeled: string[] | undefined;
  let withData: string[];
  try {
    unlabeled = unlabeledAtLastRefresh(ctx);
    withData = withDataAtLastRefresh(ctx);
  } catch {
    return undefined; // a corrupt refresh.json: refresh and doctor say so
  }
  const lines = [
    ...(unlabeled?.length
      ? [
          `WARN: ${unlabeledAdvice(ctx.config, unlabeled.length)} (at the last refresh)`,
        ]
      : []),
    ...(withData.length
      ? [`WARN: ${withDataAdvice(ctx.config, withData)} (at the last refresh)`]
      : []),
  ];
  return lines.length ? `${lines.map(printable).join("\n")}\n` : undefined;
}
