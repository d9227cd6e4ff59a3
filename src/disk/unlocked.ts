// Whether an autofs bay of a LUKS changer can hold a disk now, told from the mount table and
// sysfs alone. Loaded by the changer's protocol path (`loaded`): keep it small.
import { resolve } from "node:path";
import { autofsBays } from "../config/layout.ts";
import type { Config } from "../config/schema.ts";
import { classifyMapping, hasBlockSysfs, isOrphaned } from "../system/dm.ts";
import type { System } from "../system/system.ts";

/**
 * Why an autofs bay of a LUKS changer holds no disk, told without looking at it: with no mapping
 * of that bay open (or only the stale one of a pulled disk) a lookup there can only fail, and
 * autofs then answers every access with ENOENT for its negative timeout, the disk plugged in
 * meanwhile too (seen on a real kernel: the refresh of a pull made the next plug's first access
 * fail). Each bay has its own mapping (luks.mapper for automap.key's, its mapper for the others).
 * Undefined when the bay is worth a look: mounted, not under autofs, or a disk unlocked. path:
 * the bay or anything below it (a drive link's target).
 */
export function noDiskUnlocked(
  config: Config,
  path: string,
  sys: Pick<System, "mounts" | "sysRoot">,
): string | undefined {
  if (!config.automap.luks) return undefined;
  const at = resolve(path);
  const bay = autofsBays(config).find(
    (b) => at === b.path || at.startsWith(`${b.path}/`),
  );
  if (!bay) return undefined;
  const mounts = sys.mounts();
  if (
    !mounts.some((m) => m.mountPoint === bay.mountDir && m.fsType === "autofs")
  )
    return undefined;
  if (mounts.some((m) => m.mountPoint === bay.path)) return undefined;
  if (!hasBlockSysfs(sys.sysRoot)) return undefined;
  const mapper = `/dev/mapper/${bay.mapper}`;
  const kernel = classifyMapping(bay.mapper, sys.sysRoot);
  if (kernel.kind === "none")
    return `no disk is unlocked (${mapper} is not open); plug a magazine in (udev unlocks it)`;
  if (kernel.kind === "luks" && isOrphaned(kernel.mapping))
    return `the disk of ${mapper} is gone (pulled without eject); its mapping is released by the refresh units, then a disk plugged in is used`;
  return undefined;
}
