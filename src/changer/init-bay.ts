// Making the disk in a bay a magazine, from a config read as the caller (root, usually): find
// the mounted bay, hand it to the run-as user (the seed's `chown bacula:tape MOUNT`), drop to
// that user, then initMagazine. `magazine init` and vchanger's INITMAG both call this.
import type { Config } from "../config/schema.ts";
import { resolveMountPoint } from "../disk/discover.ts";
import { filesystemLabel } from "../disk/fs-label.ts";
import { isMountPoint } from "../system/mounts.ts";
import { handBayToRunAs } from "../disk/hand-over.ts";
import { AppError } from "../errors.ts";
import { dropPrivileges } from "../system/identity.ts";
import { realSystem } from "../system/system.ts";
import type { ChangerContext } from "./context.ts";
import { type InitResult, initMagazine } from "./init.ts";
import { ensureWorkDir } from "./operations.ts";

export interface InitBayOptions {
  volumes: number;
  /** The operator's name for the disk, already checked. */
  name?: string;
  /** Use a bare (unmounted) directory, or give a magazine a new identity. */
  force: boolean;
  /** The option that sets force, named in the refusal; none: the caller has no such option. */
  forceOption?: string;
  runAs: { user: string; group: string };
  /** The changer context, made once privileges are dropped. */
  context(config: Config): ChangerContext;
  /** Said to the operator, not failed on. */
  warn(message: string): void;
  /** Refusals of the caller's own, run as the run-as user before anything is written. */
  check?(ctx: ChangerContext, mountPoint: string): Promise<void>;
}

/** The mount point of bay index (1-based), refused when nothing is mounted there. */
export async function mountedBay(
  config: Config,
  index: number,
  options: Pick<InitBayOptions, "force" | "forceOption" | "warn">,
): Promise<string> {
  const spec = config.magazine[index - 1];
  if (!spec)
    throw new AppError(`bay ${index} does not exist in ${config.source}`);
  const { mountPoint, reason } = await resolveMountPoint(
    spec,
    realSystem(config.tools),
  );
  if (!mountPoint) throw new AppError(`bay ${index}: ${reason}`);
  let mounted: boolean;
  try {
    mounted = isMountPoint(mountPoint);
  } catch (error) {
    throw new AppError(
      `bay ${index}: cannot use ${mountPoint}: ${(error as NodeJS.ErrnoException).code ?? error}; mount the disk there first`,
    );
  }
  if (mounted || spec.allow_unmounted) return mountPoint;
  if (!options.force)
    throw new AppError(
      `bay ${index}: nothing is mounted at ${mountPoint}; mount the disk there (with autofs: ls ${mountPoint})${options.forceOption ? ` or pass ${options.forceOption} to use the bare directory` : ""}`,
    );
  options.warn(
    `${mountPoint} is not a mounted filesystem: the changer treats bay ${index} as absent until a disk carrying this identity is mounted there`,
  );
  return mountPoint;
}

export async function initBay(
  config: Config,
  index: number,
  options: InitBayOptions,
): Promise<InitResult> {
  const mountPoint = await mountedBay(config, index, options);
  // Read as root, before the switch: the run-as user cannot read the device.
  const label = await filesystemLabel(
    mountPoint,
    realSystem(config.tools),
    config.tools.blkid,
  );
  // The first magazine usually comes before `setup --write`: the work dir and log dir too.
  handBayToRunAs(config, mountPoint, options.runAs, { dirs: true });
  dropPrivileges(options.runAs);
  const ctx = options.context(config);
  ensureWorkDir(ctx);
  await options.check?.(ctx, mountPoint);
  return initMagazine(ctx, index, mountPoint, {
    volumes: options.volumes,
    force: options.force,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(label !== undefined ? { label } : {}),
  });
}
