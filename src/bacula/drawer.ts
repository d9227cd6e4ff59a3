// The magazines the changer knows that are in no bay now ("in the drawer"), for `magazine list`,
// `where` and `status`: from the slot registry (numbers, volumes, slots) and WORK_DIR/
// magazines.json (names, labels, when each was last attached). Reads only; no disk is touched.
import {
  type KnownMagazine,
  readKnownMagazines,
} from "../changer/known-magazines.ts";
import {
  describeRotation,
  type RotationFact,
  rotationFacts,
} from "../changer/rotation.ts";
import type { ChangerContext } from "../changer/context.ts";
import { magazineRef } from "../disk/magazine-name.ts";
import { describeMagazine, type EventMagazine } from "../events/types.ts";
import { readRegistry } from "../state/registry.ts";
import { printable } from "../text.ts";
import type { MagazineReport, RotationFigures } from "./report.ts";

export interface DrawerReport {
  magazine: number;
  name?: string;
  label?: string;
  uuid: string;
  volumes: number;
  slots?: { first: number; last: number; count: number };
  /** When it last arrived in a bay, and the bay; unknown for one never seen by refresh. */
  lastAttached?: string;
  lastBay?: number;
  removedAt?: string;
  /** How long it has been away, against [rotation] max_days_absent (from removedAt). */
  rotation?: RotationFigures;
}

/** Every registered magazine whose uuid is not among the attached ones in reports. */
export function drawerReports(
  ctx: ChangerContext,
  attached: Pick<MagazineReport, "uuid">[],
  now = new Date(),
): DrawerReport[] {
  const registry = readRegistry(ctx.config.work_dir);
  const known = readKnownMagazines(ctx.config.work_dir);
  const rotation = figuresByUuid(known.values(), ctx, now, false);
  const here = new Set(attached.map((r) => r.uuid).filter(Boolean));
  const slots = new Map<string, number[]>();
  for (const e of registry.slots.values())
    slots.set(e.magazine, [...(slots.get(e.magazine) ?? []), e.slot]);
  const out: DrawerReport[] = [];
  for (const [uuid, number] of registry.magazines) {
    if (here.has(uuid)) continue;
    const k = known.get(uuid);
    const own = slots.get(uuid) ?? [];
    const report: DrawerReport = {
      magazine: number,
      uuid,
      volumes: own.length,
    };
    if (k?.name !== undefined) report.name = k.name;
    if (k?.label !== undefined) report.label = k.label;
    if (own.length)
      report.slots = {
        first: Math.min(...own),
        last: Math.max(...own),
        count: own.length,
      };
    if (k?.attachedAt !== undefined) report.lastAttached = k.attachedAt;
    if (k?.bay !== undefined) report.lastBay = k.bay;
    if (k?.removedAt !== undefined) report.removedAt = k.removedAt;
    const figures = rotation.get(uuid);
    if (figures) report.rotation = figures;
    out.push(report);
  }
  return out.sort((a, b) => a.magazine - b.magazine);
}

export function drawerRef(r: DrawerReport): EventMagazine {
  return magazineRef({ ...r, number: r.magazine });
}

export function formatDrawer(reports: DrawerReport[]): string {
  const lines = reports.flatMap((r) => {
    const slots = r.slots
      ? `slots ${r.slots.first}..${r.slots.last}`
      : "no slots";
    const last = r.lastAttached
      ? `last attached ${r.lastAttached}${r.lastBay ? ` in bay ${r.lastBay}` : ""}`
      : "not attached since refresh began keeping track";
    return [
      `in the drawer: ${describeMagazine(drawerRef(r))}, ${r.volumes} volumes, ${slots}, ${last}`,
      ...(r.rotation
        ? [
            `  in the drawer since ${r.rotation.since}${describeRotation(r.rotation)}`,
          ]
        : []),
    ];
  });
  return lines.length ? `${lines.map(printable).join("\n")}\n` : "";
}

/**
 * Adds when each attached magazine arrived (magazines.json) to the bay reports, and how long ago,
 * against [rotation] max_days_attached.
 */
export function withAttachTimes(
  ctx: ChangerContext,
  reports: MagazineReport[],
  now = new Date(),
): MagazineReport[] {
  const known = readKnownMagazines(ctx.config.work_dir);
  const rotation = figuresByUuid(known.values(), ctx, now, true);
  for (const r of reports) {
    const at = r.uuid ? known.get(r.uuid)?.attachedAt : undefined;
    if (r.present && at) r.attachedAt = at;
    const figures = r.uuid ? rotation.get(r.uuid) : undefined;
    if (r.present && figures) r.rotation = figures;
  }
  return reports;
}

/** The rotation figures of the magazines magazines.json has attached (or in the drawer). */
function figuresByUuid(
  known: Iterable<
    Parameters<typeof rotationFacts>[0] extends Iterable<infer K> ? K : never
  >,
  ctx: ChangerContext,
  now: Date,
  attached: boolean,
): Map<string, RotationFigures> {
  const out = new Map<string, RotationFigures>();
  for (const fact of rotationFacts(known, ctx.config.rotation, now))
    if (fact.attached === attached) {
      const figures = rotationFigures(fact);
      if (figures) out.set(fact.magazine.uuid, figures);
    }
  return out;
}

function rotationFigures(fact: RotationFact): RotationFigures | undefined {
  if (fact.since === undefined || fact.days === undefined) return undefined;
  return {
    attached: fact.attached,
    since: fact.since,
    seconds: fact.seconds ?? 0,
    days: fact.days,
    ...(fact.limitDays !== undefined ? { limitDays: fact.limitDays } : {}),
    overdue: fact.overdue,
  };
}

/** `magazine list --json`: the bays, then the drawer as entries with `bay: null`. */
export function listJson(
  bays: MagazineReport[],
  drawer: DrawerReport[],
): unknown[] {
  return [
    ...bays,
    ...drawer.map((d) => ({
      bay: null,
      where: "drawer",
      present: false,
      reason: "in the drawer (in no bay)",
      warnings: [],
      ...d,
    })),
  ];
}
