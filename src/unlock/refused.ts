// A LUKS USB disk udev's rule matched and unlock could not open: the key does not open it (a disk
// of another changer, or formatted with another key), its LUKS UUID is not allowed, every name
// is held by an attached disk. Besides unlock's one log line, the operator is told (disk-refused),
// as for everything else the changer tells: queued in the work dir and delivered by the refresh
// queued first, which delivers at its end (the timer's, at the latest). The queue is the run-as
// user's: it is written after switching to that user, the last thing this process does.
import type { Config } from "../config/schema.ts";
import { enqueueEvent } from "../events/queue.ts";
import type { Log } from "../log.ts";
import { dropPrivileges } from "../system/identity.ts";
import { queueRefresh } from "./trigger.ts";
import type { UnlockDeps } from "./unlock.ts";

/** quiet: the changer log only (udev's journal gets unlock's one line, not this one's). */
export async function tellRefusal(
  config: Config,
  device: string,
  reason: string,
  deps: UnlockDeps,
  quiet: Log,
): Promise<void> {
  await queueRefresh(config, { ...deps, log: quiet });
  try {
    dropPrivileges({ user: config.user, group: config.group });
  } catch (error) {
    quiet.warn(
      `not telling the operator that ${device} was refused: ${(error as Error).message}`,
    );
    return;
  }
  enqueueEvent(
    config.work_dir,
    { kind: "disk-refused", device, reason, at: new Date().toISOString() },
    quiet,
  );
}
