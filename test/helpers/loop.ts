// Real ext4 filesystems on loop devices, made by the test and always removed: destroy() (call it
// from afterAll, or destroyAllLoopFs()), an 'exit' hook for plain scripts, and a watchdog
// process that unmounts and detaches after the test process dies in any way (see
// loop-watchdog.ts). Needs root, losetup, mkfs.ext4 and free loop devices.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { missing } from "./capabilities.ts";
import { tool } from "./run.ts";

const live = new Set<LoopFs>();
let watchdog: ChildProcess | undefined;

function register(line: string): void {
  if (!watchdog) {
    watchdog = spawn(
      process.execPath,
      [join(import.meta.dir, "loop-watchdog.ts")],
      {
        detached: true,
        stdio: ["pipe", "ignore", "ignore"],
      },
    );
    watchdog.on("error", () => {});
    watchdog.unref();
    // Not emitted under `bun test`; the watchdog covers that. This covers scripts.
    process.on("exit", destroyAllLoopFs);
  }
  watchdog.stdin?.write(`${line}\n`);
}

/** Has the watchdog detach device if this process dies before detaching it itself. */
export function watchLoop(device: string): void {
  register(`+loop ${device}`);
}

/** The device was detached: the watchdog forgets it. */
export function unwatchLoop(device: string): void {
  register(`-loop ${device}`);
}

/** Why loop-device filesystems cannot be made here, or undefined when they can. */
export function loopMissing(): string | undefined {
  return missing("loop");
}

export interface LoopFsOptions {
  sizeMiB?: number;
  label?: string;
  /** Percent of blocks reserved for root; mkfs.ext4's default (5) when unset. */
  reservedPercent?: number;
  /** Owner of the filesystem's root directory. */
  owner?: { uid: number; gid: number };
}

export class LoopFs {
  mountPoint: string | undefined;
  private destroyed = false;

  constructor(
    readonly image: string,
    readonly device: string,
  ) {}

  mount(at: string, options: string[] = []): void {
    if (this.mountPoint)
      throw new Error(
        `${this.device} is already mounted at ${this.mountPoint}`,
      );
    mkdirSync(at, { recursive: true });
    tool([
      "mount",
      "-t",
      "ext4",
      ...(options.length ? ["-o", options.join(",")] : []),
      "--",
      this.device,
      at,
    ]);
    this.mountPoint = at;
    register(`+mount ${at}`);
  }

  unmount(): void {
    const at = this.mountPoint;
    if (!at) return;
    tool(["umount", "--", at]);
    this.mountPoint = undefined;
    register(`-mount ${at}`);
  }

  /** `mount -o remount,ro` / `rw`, e.g. to make writes fail with EROFS. */
  remount(mode: "ro" | "rw"): void {
    if (!this.mountPoint) throw new Error(`${this.device} is not mounted`);
    tool(["mount", "-o", `remount,${mode}`, "--", this.mountPoint]);
  }

  /** statfs of the mounted filesystem: bfree counts root's reserve, bavail does not. */
  statfs(): { bsize: number; blocks: number; bfree: number; bavail: number } {
    if (!this.mountPoint) throw new Error(`${this.device} is not mounted`);
    const s = statfsSync(this.mountPoint);
    return {
      bsize: Number(s.bsize),
      blocks: Number(s.blocks),
      bfree: Number(s.bfree),
      bavail: Number(s.bavail),
    };
  }

  destroy(): void {
    if (this.destroyed) return;
    const at = this.mountPoint;
    if (at) {
      try {
        tool(["umount", "--", at]);
      } catch {
        tool(["umount", "-l", "--", at], { okCodes: [0, 32] });
      }
      this.mountPoint = undefined;
      register(`-mount ${at}`);
    }
    tool(["losetup", "-d", this.device], { okCodes: [0, 1] });
    register(`-loop ${this.device}`);
    rmSync(this.image, { force: true });
    this.destroyed = true;
    live.delete(this);
  }
}

/** Makes an image file in dir, an ext4 filesystem on it and attaches it to a free loop device. */
export function createLoopFs(
  dir: string,
  name: string,
  options: LoopFsOptions = {},
): LoopFs {
  const image = join(dir, `${name}.img`);
  tool(["truncate", "-s", `${options.sizeMiB ?? 16}M`, "--", image]);
  const mkfs = [
    "mkfs.ext4",
    "-q",
    "-F",
    "-L",
    options.label ?? name.slice(0, 16),
  ];
  if (options.reservedPercent !== undefined)
    mkfs.push("-m", String(options.reservedPercent));
  if (options.owner)
    mkfs.push("-E", `root_owner=${options.owner.uid}:${options.owner.gid}`);
  tool([...mkfs, image]);
  const device = tool(["losetup", "-f", "--show", "--", image]).trim();
  const fs = new LoopFs(image, device);
  live.add(fs);
  register(`+loop ${device}`);
  return fs;
}

/** Unmounts and detaches every loop filesystem this process made (afterAll, exit hook). */
export function destroyAllLoopFs(): void {
  for (const fs of [...live].reverse()) {
    try {
      fs.destroy();
    } catch (error) {
      console.error(`cleanup of ${fs.device}: ${(error as Error).message}`);
    }
  }
}
