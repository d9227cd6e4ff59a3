// Events refresh raises from what is in the bays: a disk there that is no magazine of this
// changer (unknown or foreign), and a magazine nearly full for the run-as user. Each is raised
// when it becomes true, not on every refresh: WORK_DIR/events/noticed.json remembers what was
// told, and forgets it once it is no longer so (the disk left, space was freed).
import { errorMessage } from "../errors.ts";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { MagazineStatus } from "../disk/discover.ts";
import { magazineRef } from "../disk/magazine-name.ts";
import { ensureEventsDir, enqueueEvent, eventsDir } from "../events/queue.ts";
import type { ChangerEvent } from "../events/types.ts";
import type { Log } from "../log.ts";
import { writeFileAtomic } from "../state/atomic.ts";
import { readTextIfExists } from "../state/safe-fs.ts";
import { filesystemSpace } from "../system/ext4.ts";
import { isMountPoint } from "../system/mounts.ts";
import type { System } from "../system/system.ts";

interface Noticed {
  /** bay number -> what was said about the disk in it */
  unknown: Record<string, string>;
  /** uuids of magazines reported nearly full */
  full: string[];
}

/** Queues the bay events that became true since the last refresh. Never throws. */
export function noticeBays(
  config: Config,
  magazines: MagazineStatus[],
  sys: Pick<System, "mounts">,
  log: Log,
): ChangerEvent[] {
  try {
    const path = join(eventsDir(config.work_dir), "noticed.json");
    const before = readNoticed(path);
    const now: Noticed = { unknown: {}, full: [] };
    const raised: ChangerEvent[] = [];
    const at = new Date().toISOString();
    for (const m of magazines) {
      const unknown = unknownDisk(m);
      if (unknown) {
        now.unknown[String(m.index)] = unknown;
        if (before.unknown[String(m.index)] !== unknown)
          raised.push({
            kind: "unknown-disk",
            bay: m.index,
            detail: unknown,
            at,
          });
      }
      const full = m.present && m.identity && nearlyFull(config, m, sys);
      if (full && m.identity) {
        now.full.push(m.identity.uuid);
        if (!before.full.includes(m.identity.uuid))
          raised.push({
            kind: "magazine-nearly-full",
            magazine: magazineRef(m.identity),
            ...full,
            at,
          });
      }
    }
    for (const event of raised) enqueueEvent(config.work_dir, event, log);
    if (JSON.stringify(now) !== JSON.stringify(before)) {
      ensureEventsDir(eventsDir(config.work_dir));
      writeFileAtomic(path, `${JSON.stringify(now)}\n`, 0o600);
    }
    return raised;
  } catch (error) {
    log.error(`cannot check the bays for events: ${errorMessage(error)}`);
    return [];
  }
}

/** Why the disk in this bay is no magazine of ours, when a disk is mounted there at all. */
function unknownDisk(m: MagazineStatus): string | undefined {
  // A disk that fails every read was pulled or is failing: it is not someone else's disk.
  if (m.present || m.failed || !m.mountPoint || m.spec.allow_unmounted)
    return undefined;
  try {
    if (!isMountPoint(m.mountPoint)) return undefined;
  } catch {
    return undefined;
  }
  return m.reason ?? "no magazine of this changer";
}

function nearlyFull(
  config: Config,
  m: MagazineStatus,
  sys: Pick<System, "mounts">,
): { freeBytes: number; totalBytes: number } | undefined {
  if (!m.mountPoint) return undefined;
  const space = filesystemSpace(m.mountPoint, sys.mounts());
  // What the run-as user may fill: root's reserve is not theirs (the seed's trap).
  const usable = space.totalBytes - space.reservedBytes;
  if (usable <= 0) return undefined;
  const used = (100 * (usable - space.availableBytes)) / usable;
  const limit = config.notify?.nearly_full_percent ?? 90;
  return used >= limit
    ? { freeBytes: space.availableBytes, totalBytes: usable }
    : undefined;
}

/** A few UUIDs and reasons. */
export const MAX_NOTICED_BYTES = 64 * 1024;

function readNoticed(path: string): Noticed {
  try {
    const value = JSON.parse(
      readTextIfExists(path, { maxBytes: MAX_NOTICED_BYTES }) ?? "{}",
    );
    return {
      unknown:
        value && typeof value.unknown === "object" && value.unknown
          ? value.unknown
          : {},
      full: Array.isArray(value?.full)
        ? value.full.filter((u: unknown) => typeof u === "string")
        : [],
    };
  } catch {
    return { unknown: {}, full: [] };
  }
}
