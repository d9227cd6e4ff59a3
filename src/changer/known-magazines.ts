// Every magazine the changer knows, attached or in the drawer: WORK_DIR/magazines.json keeps what
// the disks in the drawer cannot say now (their names, labels, when each was last attached, its
// space then). It is written by refresh, init and rename only (never by a protocol command) and
// only when something changed: an attach or removal it noticed (which is also when the events are
// queued, and an arriving disk's space is measured).
import { join } from "node:path";
import { enqueueEvent } from "../events/queue.ts";
import type { ChangerEvent, EventMagazine } from "../events/types.ts";
import { isFilesystemLabel } from "../disk/fs-label.ts";
import { type MagazineIdentity, UUID_PATTERN } from "../disk/identity.ts";
import {
  isMagazineName,
  magazineRef,
  nameProblem,
  sameName,
} from "../disk/magazine-name.ts";
import { UsageError } from "../errors.ts";
import { describeMagazine } from "../events/types.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import type { Registry } from "../state/registry.ts";
import { MAX_MAGAZINE } from "../state/registry-text.ts";
import { readTextBounded } from "../state/safe-fs.ts";
import { type MagazineSpace, sanitizeSpace } from "./magazine-space.ts";
import type { ChangerContext } from "./context.ts";
import type { ChangerView } from "./operations.ts";
import type { MagazineStatus } from "../disk/discover.ts";

export type { MagazineSpace } from "./magazine-space.ts";

export interface KnownMagazine {
  uuid: string;
  number: number;
  name?: string;
  label?: string;
  attached: boolean;
  /** The bay it is in, or was in when it was last seen. */
  bay?: number;
  /** When a refresh (or init) last saw it arrive. */
  attachedAt?: string;
  /** When a refresh noticed it gone. */
  removedAt?: string;
  /**
   * Its space for the run-as user when a refresh saw it arrive: what a disk in the drawer has,
   * less what the catalog says was written since, when Bacula needs a disk with space.
   */
  space?: MagazineSpace;
}

const FILE = "magazines.json";
/** A few hundred bytes per magazine; far more than any changer has. */
export const MAX_KNOWN_MAGAZINES_BYTES = 4 * 1024 * 1024;

export function knownMagazinesPath(workDir: string): string {
  return join(workDir, FILE);
}

/**
 * The catalogue; empty when missing. A damaged one is read as empty (the names come back from
 * the disks as they are attached): it must never stop a changer or a listing.
 */
export function readKnownMagazines(
  workDir: string,
): Map<string, KnownMagazine> {
  const known = new Map<string, KnownMagazine>();
  let data: unknown;
  try {
    data = JSON.parse(
      readTextBounded(knownMagazinesPath(workDir), {
        maxBytes: MAX_KNOWN_MAGAZINES_BYTES,
      }),
    );
  } catch {
    return known; // missing, or damaged: see above
  }
  const list = (data as { magazines?: unknown })?.magazines;
  if (!Array.isArray(list)) return known;
  for (const raw of list) {
    const m = sanitize(raw);
    if (m) known.set(m.uuid, m);
  }
  return known;
}

/** What toISOString() writes: a time printed in listings and JSON, never free text. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const isTimestamp = (v: unknown): v is string =>
  typeof v === "string" && TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v));

/**
 * An entry as the run-as user's file may hold it: every field checked for what it is (a uuid,
 * a magazine number, a name, a label, a bay, a time), since listings and --json print them;
 * a field that is not is dropped, an entry without a valid uuid and number skipped.
 */
function sanitize(raw: unknown): KnownMagazine | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  if (
    typeof r.uuid !== "string" ||
    !UUID_PATTERN.test(r.uuid) ||
    !Number.isInteger(r.number) ||
    (r.number as number) < 1 ||
    (r.number as number) > MAX_MAGAZINE
  )
    return undefined;
  const m: KnownMagazine = {
    uuid: r.uuid,
    number: r.number as number,
    attached: r.attached === true,
  };
  if (isMagazineName(r.name)) m.name = r.name;
  if (isFilesystemLabel(r.label)) m.label = r.label;
  if (Number.isInteger(r.bay) && (r.bay as number) >= 1)
    m.bay = r.bay as number;
  if (isTimestamp(r.attachedAt)) m.attachedAt = r.attachedAt;
  if (isTimestamp(r.removedAt)) m.removedAt = r.removedAt;
  const space = sanitizeSpace(r.space);
  if (space) m.space = space;
  return m;
}

export function writeKnownMagazines(
  workDir: string,
  known: Map<string, KnownMagazine>,
): void {
  const magazines = [...known.values()].sort((a, b) => a.number - b.number);
  writeFileAtomic(
    knownMagazinesPath(workDir),
    `${JSON.stringify({ version: 1, magazines }, null, 1)}\n`,
  );
}

/** Takes the disk's own name and label (the identity is the truth while it is attached). */
function fromIdentity(
  entry: KnownMagazine,
  identity: MagazineIdentity,
  bay: number,
): boolean {
  const before = JSON.stringify(entry);
  entry.number = identity.number;
  entry.bay = bay;
  if (identity.name !== undefined) entry.name = identity.name;
  else delete entry.name;
  if (identity.label !== undefined) entry.label = identity.label;
  else delete entry.label;
  return JSON.stringify(entry) !== before;
}

export interface MagazineChanges {
  attached: KnownMagazine[];
  removed: KnownMagazine[];
}

/**
 * Under the changer lock, after a scan: records arrivals and removals and queues a
 * magazine-attached or magazine-removed event for each, and the space of each arriving magazine
 * (measure: measure-space.ts's spaceMeter). Writes nothing when nothing changed.
 */
export function noteMagazines(
  ctx: ChangerContext,
  view: Pick<ChangerView, "registry" | "magazines">,
  now = new Date(),
  measure?: (status: MagazineStatus) => MagazineSpace | undefined,
): MagazineChanges {
  const workDir = ctx.config.work_dir;
  const known = readKnownMagazines(workDir);
  const at = now.toISOString();
  const changes: MagazineChanges = { attached: [], removed: [] };
  let changed = dropForgotten(known, view.registry);
  const seen = new Set<string>();
  for (const status of view.magazines) {
    const identity = status.present ? status.identity : undefined;
    if (!identity) continue;
    seen.add(identity.uuid);
    let entry = known.get(identity.uuid);
    if (!entry) {
      entry = { uuid: identity.uuid, number: identity.number, attached: false };
      known.set(identity.uuid, entry);
    }
    if (fromIdentity(entry, identity, status.index)) changed = true;
    // Once per stay, when it arrives: the catalog tells what Bacula writes on it afterwards,
    // and a refresh that changed nothing writes nothing.
    if (measure && (!entry.attached || entry.space === undefined)) {
      const space = measure(status);
      if (space) {
        entry.space = space;
        changed = true;
      }
    }
    if (!entry.attached) {
      entry.attached = true;
      entry.attachedAt = at;
      changes.attached.push(entry);
      changed = true;
    }
  }
  for (const entry of known.values()) {
    if (!entry.attached || seen.has(entry.uuid)) continue;
    entry.attached = false;
    entry.removedAt = at;
    changes.removed.push(entry);
    changed = true;
  }
  if (!changed) return changes;
  writeKnownMagazines(workDir, known);
  for (const entry of changes.removed)
    queue(ctx, "magazine-removed", entry, at);
  for (const entry of changes.attached)
    queue(ctx, "magazine-attached", entry, at);
  return changes;
}

/** Magazines the registry no longer has (re-initialized under a new identity) leave the list. */
function dropForgotten(
  known: Map<string, KnownMagazine>,
  registry: Registry,
): boolean {
  let dropped = false;
  for (const uuid of known.keys())
    if (!registry.magazines.has(uuid)) dropped = known.delete(uuid) || dropped;
  return dropped;
}

function queue(
  ctx: ChangerContext,
  kind: "magazine-attached" | "magazine-removed",
  entry: KnownMagazine,
  at: string,
): void {
  const event: ChangerEvent = {
    kind,
    magazine: magazineRef(entry),
    bay: entry.bay ?? 0,
    at,
  };
  enqueueEvent(ctx.config.work_dir, event, ctx.log);
}

/**
 * How messages name the magazine with this uuid, attached or in the drawer: the number the slot
 * registry gives it (else the catalogue's, else 0), its name and label from the catalogue.
 */
export function knownMagazineRef(
  uuid: string,
  registryNumber: number | undefined,
  known: KnownMagazine | undefined,
): EventMagazine {
  return magazineRef({
    ...known,
    uuid,
    number: registryNumber ?? known?.number ?? 0,
  });
}

/**
 * Records a name or label just written to a disk's identity (init, rename), under the lock. The
 * disk is attached (it was just written): no attach event follows for it.
 */
export function recordIdentity(
  ctx: ChangerContext,
  identity: MagazineIdentity,
  bay: number,
  now = new Date(),
): void {
  const known = readKnownMagazines(ctx.config.work_dir);
  const entry = known.get(identity.uuid) ?? {
    uuid: identity.uuid,
    number: identity.number,
    attached: false,
  };
  fromIdentity(entry, identity, bay);
  if (!entry.attached) {
    entry.attached = true;
    entry.attachedAt = now.toISOString();
  }
  known.set(identity.uuid, entry);
  writeKnownMagazines(ctx.config.work_dir, known);
}

/** Throws a usage error naming the magazine that already has this name. */
export function checkNameFree(
  ctx: ChangerContext,
  name: string,
  uuid: string,
): void {
  const problem = nameProblem(name);
  if (problem) throw new UsageError(`name "${name}" ${problem}`);
  for (const m of readKnownMagazines(ctx.config.work_dir).values()) {
    if (m.uuid !== uuid && sameName(m.name, name))
      throw new UsageError(
        `${describeMagazine(magazineRef(m))} is already named "${m.name}"; pick another name or rename that one first`,
      );
  }
}
