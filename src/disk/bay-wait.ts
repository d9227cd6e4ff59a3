// The refresh a plug queues must see the disk that was just unlocked. A lookup of the autofs bay
// a moment before (the storage daemon resolving a drive link into the bay while the disk was
// away, seen on a real kernel during `update slots`) leaves autofs answering every access with
// ENOENT for its negative timeout (setup's map: 5 s), the new disk's too: refresh then saw the
// bay empty, told Bacula nothing and resumed no job. So before its scan, refresh waits out that
// window for each autofs bay whose mapping is open: a few seconds, only when a disk was just
// plugged, never on the protocol path. The mount table read before is dropped once the disk is
// mounted.
import { statSync } from "node:fs";
import { autofsBays } from "../config/layout.ts";
import type { Config } from "../config/schema.ts";
import type { Log } from "../log.ts";
import { classifyMapping, isOrphaned } from "../system/dm.ts";
import type { System } from "../system/system.ts";

/** autofs's negative timeout in setup's map entry, and a second beyond it. */
const WINDOW_MS = 6_000;

export async function awaitUnlockedBays(
  config: Config,
  sys: Pick<System, "mounts" | "forgetMounts" | "sysRoot">,
  log: Log,
): Promise<void> {
  if (!config.automap.luks) return;
  for (const bay of autofsBays(config)) {
    const mounts = sys.mounts();
    if (
      !mounts.some(
        (m) => m.mountPoint === bay.mountDir && m.fsType === "autofs",
      )
    )
      continue;
    if (mounts.some((m) => m.mountPoint === bay.path)) continue;
    const kernel = classifyMapping(bay.mapper, sys.sysRoot);
    if (kernel.kind !== "luks" || isOrphaned(kernel.mapping)) continue;
    const deadline = Date.now() + WINDOW_MS;
    for (;;) {
      try {
        statSync(bay.path); // the lookup autofs answers by mounting the disk
        // What this run read of the mount table predates that mount: the rest of the refresh
        // (a waiting job's no-room check, the space meter) must see the disk.
        sys.forgetMounts?.();
        break;
      } catch {
        if (Date.now() > deadline) {
          log.warn(
            `${bay.path}: /dev/mapper/${bay.mapper} is open but autofs did not mount it within ${WINDOW_MS / 1000} s; the next refresh looks again`,
          );
          break;
        }
        await Bun.sleep(500);
      }
    }
  }
}
