// Each bay as the changer sees it: present, mounted, carrying this changer's identity, writable
// by the run-as user, and with space that user can actually use. The seed's trap lives here:
// ext4 reserves 5% for root by default, so `df` as root shows space while bacula gets ENOSPC.
import { type MagazineStatus, probeAll } from "../disk/discover.ts";
import { formatBytes } from "../text.ts";
import { autofsBays } from "../config/layout.ts";
import { denied, ownershipFix, R, W, X } from "./access.ts";
import { filesystemSpace } from "../system/ext4.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import type { DoctorContext } from "./context.ts";
import { pullChecks } from "./pull.ts";

/** Reasons that mean "no disk here right now", as opposed to a disk that is wrong. */
const NOT_THERE = /attached|nothing is mounted|not mounted/;

export async function checkMagazines(ctx: DoctorContext): Promise<Check[]> {
  const statuses = await probeAll(ctx.config, ctx.sys);
  const anyPresent = statuses.some((s) => s.present);
  const checks: Check[] = [];
  for (const status of statuses) {
    if (status.present) checks.push(...presentBay(ctx, status));
    else checks.push(absentBay(ctx, status, anyPresent));
  }
  checks.push(...pullChecks(ctx, statuses));
  return checks;
}

function absentBay(
  ctx: DoctorContext,
  status: MagazineStatus,
  anyPresent: boolean,
): Check {
  const name = `bay ${status.index}`;
  const reason = status.reason ?? "absent";
  const message = `${status.where}: magazine absent: ${reason}`;
  const conf = ctx.configFile;
  if (NOT_THERE.test(reason)) {
    const bay = autofsBays(ctx.config).find(
      (b) => b.path === status.mountPoint,
    );
    const fix = bay
      ? `attach a magazine disk; if one is attached, \`ls ${bay.path}\` should mount it through autofs: see the udev and autofs checks`
      : `attach the disk and mount it at ${status.mountPoint ?? status.where}`;
    // A rotation leaves bays empty on purpose; only a changer with no magazine at all is broken.
    return anyPresent
      ? warn(name, message, fix)
      : fail(name, `${message} (no bay of this changer holds a magazine)`, fix);
  }
  if (reason.includes("carries no magchanger identity")) {
    return fail(
      name,
      message,
      `make the disk a magazine: magchanger magazine init -c ${conf} ${status.index}`,
    );
  }
  return fail(
    name,
    message,
    `attach a magazine of changer ${ctx.config.name} to this bay, or re-initialize the disk: magchanger magazine init -c ${conf} ${status.index} --force`,
  );
}

/** The seed's chown of a bay, never through a link (chown follows it to wherever it leads). */
function presentBay(ctx: DoctorContext, status: MagazineStatus): Check[] {
  const name = `bay ${status.index}`;
  const mountPoint = status.mountPoint as string;
  const identity = status.identity;
  const who = ctx.who;
  const checks: Check[] = [];
  // The same figures `magazine list` prints: one computation (filesystemSpace).
  const space = filesystemSpace(mountPoint, ctx.sys.mounts());
  const mount = space.fsType
    ? { source: space.device ?? "?", fsType: space.fsType }
    : undefined;
  const device = mount?.source.startsWith("/dev/") ? mount.source : undefined;
  const forUser = who?.uid === 0 ? space.freeBytes : space.availableBytes;
  const isExt = /^ext[234]$/.test(mount?.fsType ?? "");
  const reserved = space.reservedBytes;
  const userName = who?.name ?? ctx.config.user;
  const summary = `${status.where}: magazine ${identity?.number} (${identity?.uuid}), ${status.volumes.length} volume(s), ${device ?? mount?.source ?? "?"} (${mount?.fsType ?? "?"}) at ${mountPoint}, ${formatBytes(forUser)} of ${formatBytes(space.totalBytes)} free for ${userName}`;
  const why = who ? denied(mountPoint, who, R | W | X) : undefined;
  if (why) {
    checks.push(
      fail(
        name,
        `${summary}; but ${why}: the storage daemon cannot write volumes there`,
        ownershipFix(
          mountPoint,
          `chown ${ctx.config.user}:${ctx.config.group} ${mountPoint} (the seed's chown)`,
        ),
      ),
    );
  }
  const tune2fs =
    device && isExt
      ? `tune2fs -m 0 ${device}`
      : "give the run-as user the reserved blocks (mkfs with -m 0)";
  if (who && who.uid !== 0 && reserved > 0) {
    const trap = `${formatBytes(reserved)} are reserved for root, which ${userName} cannot use: \`df\` as root shows space while the changer and the storage daemon get ENOSPC`;
    if (forUser === 0) checks.push(fail(name, `${summary}; ${trap}`, tune2fs));
    else checks.push(warn(name, `${summary}; ${trap}`, tune2fs));
  } else if (forUser === 0) {
    checks.push(
      fail(
        name,
        `${summary}; the filesystem is full`,
        `add a magazine, or let Bacula recycle volumes on this one`,
      ),
    );
  }
  if (status.volumes.length === 0) {
    checks.push(
      warn(
        name,
        `${status.where}: magazine ${identity?.number} has no volumes`,
        `magchanger magazine createvols -c ${ctx.configFile} ${status.index} 10`,
      ),
    );
  }
  if (!checks.length) checks.push(ok(name, summary));
  return checks;
}
