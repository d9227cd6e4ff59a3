// A temp dir for e2e tests that owns what the test starts in it: daemons (process groups),
// mounts and loop devices. Everything is recorded in ROOT/owner.json before it exists, so
// three independent paths can undo it: cleanup() (afterAll / `await using`), a detached
// watchdog that notices the test process is gone however it ended (`bun test` emits no 'exit'
// event and SIGKILL runs nothing), and reapStaleRoots() at the next start.
import { type ChildProcess, spawn as spawnChild } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  describeFailure,
  isAlive,
  isRunning,
  killGroup,
  runTool,
} from "./processes.ts";

export const ROOT_PREFIX = "magchanger-e2e-";

export interface OwnerRecord {
  ownerPid: number;
  /** Process-group leaders to kill (only while their command line names this root). */
  daemonPids: number[];
  /** Mount points, in mount order; unmounted in reverse. */
  mounts: string[];
  /** Loop devices with the image they were attached to (detached only if still that image). */
  loops: { device: string; image: string }[];
}

export class Scratch implements AsyncDisposable {
  private readonly record: OwnerRecord;
  private readonly watchdog: ChildProcess;
  private done = false;

  private constructor(readonly root: string) {
    this.record = {
      ownerPid: process.pid,
      daemonPids: [],
      mounts: [],
      loops: [],
    };
    this.save();
    this.watchdog = startWatchdog(root);
  }

  /** A fresh dir /tmp/magchanger-e2e-NAME-XXXXXX, mode 0755 (a non-root SD must traverse it). */
  static create(name: string): Scratch {
    reapStaleRoots();
    const root = mkdtempSync(join(tmpdir(), `${ROOT_PREFIX}${name}-`));
    chmodSync(root, 0o755);
    return new Scratch(root);
  }

  private save(): void {
    writeFileSync(join(this.root, "owner.json"), JSON.stringify(this.record));
  }

  addDaemon(pid: number): void {
    this.record.daemonPids.push(pid);
    this.save();
  }

  /** losetup -f --show IMAGE; the device is detached by cleanup. */
  async attachLoop(image: string): Promise<string> {
    const r = await runTool(["losetup", "--find", "--show", "--", image], {
      timeoutMs: 30_000,
    });
    const device = r.stdout.trim();
    if (r.exitCode !== 0 || !device.startsWith("/dev/loop"))
      throw new Error(`losetup failed:\n${describeFailure(r)}`);
    this.record.loops.push({ device, image });
    this.save();
    return device;
  }

  async mount(
    device: string,
    dir: string,
    options = "rw,nodev,nosuid",
  ): Promise<void> {
    // Recorded first: a crash between mount(8) and the record must not leak the mount.
    this.record.mounts.push(dir);
    this.save();
    const r = await runTool(["mount", "-o", options, "--", device, dir], {
      timeoutMs: 30_000,
    });
    if (r.exitCode !== 0) {
      this.record.mounts = this.record.mounts.filter((m) => m !== dir);
      this.save();
      throw new Error(`mount failed:\n${describeFailure(r)}`);
    }
  }

  async unmount(dir: string): Promise<void> {
    const r = await runTool(["umount", "--", dir], { timeoutMs: 30_000 });
    if (r.exitCode !== 0)
      throw new Error(`umount failed:\n${describeFailure(r)}`);
    this.record.mounts = this.record.mounts.filter((m) => m !== dir);
    this.save();
  }

  /** Undoes everything recorded (daemons, mounts, loops) and removes the dir. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.done) return;
    this.done = true;
    reapRoot(this.root);
    if (this.watchdog.pid !== undefined) {
      try {
        process.kill(this.watchdog.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    this.watchdog.stdin?.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/** See watchdog.ts. Its stdin pipe from us is the only thing tying it to this process. */
function startWatchdog(root: string): ChildProcess {
  const child = spawnChild(
    process.execPath,
    [join(import.meta.dir, "watchdog.ts"), root],
    {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    },
  );
  child.on("error", () => {});
  child.unref();
  return child;
}

function readRecord(root: string): Partial<OwnerRecord> {
  try {
    return JSON.parse(readFileSync(join(root, "owner.json"), "utf8"));
  } catch {
    return {};
  }
}

function mountPointsUnder(root: string): string[] {
  const unescape = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => unescape(l.split(" ")[4] ?? ""))
    .filter((m) => m === root || m.startsWith(`${root}/`));
}

function tool(argv: string[]): boolean {
  const r = Bun.spawnSync(argv, {
    stdout: "ignore",
    stderr: "ignore",
    timeout: 30_000,
  });
  return r.exitCode === 0;
}

/**
 * Synchronous, so it also runs from the watchdog and exit paths: kill the recorded daemons
 * (whose command line still names root: a recycled pid is never hit), unmount what was mounted
 * (retrying while a dying daemon still holds a file, then lazily), detach the loop devices that
 * still carry our image, then delete root unless something is still mounted inside it (rm
 * would walk into that filesystem). MAGCHANGER_KEEP_E2E=1 keeps the dir for debugging.
 */
export function reapRoot(root: string): void {
  const record = readRecord(root);
  const ours = (record.daemonPids ?? []).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(root);
    } catch {
      return false;
    }
  });
  // A short grace only: the SD takes ~2.5 s to exit after a job, and nothing it would save
  // matters once a test is over.
  for (const pid of ours) killGroup(pid, "SIGTERM");
  const deadline = Date.now() + 1_000;
  while (Date.now() < deadline && ours.some(isRunning)) Bun.sleepSync(50);
  for (const pid of ours) killGroup(pid, "SIGKILL");
  while (Date.now() < deadline + 2_000 && ours.some(isRunning))
    Bun.sleepSync(20);

  const mounted = new Set(mountPointsUnder(root));
  for (const dir of [...(record.mounts ?? [])].reverse()) {
    if (!mounted.has(dir)) continue;
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      ok = tool(["umount", "--", dir]);
      if (!ok) Bun.sleepSync(250);
    }
    if (!ok) tool(["umount", "--lazy", "--", dir]);
  }
  for (const { device, image } of record.loops ?? []) {
    const r = Bun.spawnSync(
      [
        "losetup",
        "--list",
        "--noheadings",
        "--output",
        "BACK-FILE",
        "--",
        device,
      ],
      {
        stdout: "pipe",
        stderr: "ignore",
        timeout: 30_000,
      },
    );
    // A loop device number is reused as soon as it is free: detach only if it is still ours.
    if (r.exitCode === 0 && r.stdout.toString().trim() === image)
      tool(["losetup", "--detach", device]);
  }
  if (!existsSync(root)) return;
  if (process.env.MAGCHANGER_KEEP_E2E) {
    console.warn(`e2e: kept ${root} (MAGCHANGER_KEEP_E2E)`);
    return;
  }
  const still = mountPointsUnder(root);
  if (still.length > 0) {
    console.warn(
      `e2e: not removing ${root}: still mounted: ${still.join(", ")}`,
    );
    return;
  }
  rmSync(root, {
    recursive: true,
    force: true,
    maxRetries: 5,
    retryDelay: 100,
  });
}

/** Reaps dirs whose owning test process is gone (it was SIGKILLed and so was its watchdog). */
export function reapStaleRoots(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(ROOT_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const root = join(tmpdir(), e);
    const { ownerPid } = readRecord(root);
    if (ownerPid && ownerPid !== process.pid && !isAlive(ownerPid))
      reapRoot(root);
  }
}
