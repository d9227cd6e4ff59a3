// The guest's root filesystem: Debian 12 from Debian's own packages (mmdebstrap), with its stock
// kernel and initrd beside it. Built once and cached outside the repository, keyed by everything
// that goes into it (suite, package list, the customizations below): a change to any of them
// makes a new image, an old one is never patched. A build goes to a temp dir and is renamed into
// place whole, so a build killed halfway leaves no image that looks ready.
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export const SUITE = "bookworm";

/** What the guest runs: the seed's chain, Bacula 9.6.7 and the harness's agent. */
export const PACKAGES = [
  "linux-image-amd64",
  "systemd-sysv",
  "udev",
  "kmod",
  "cryptsetup",
  "cryptsetup-bin",
  "dmsetup",
  "autofs",
  "e2fsprogs",
  "fdisk",
  "util-linux",
  "procps",
  "psmisc",
  "qemu-guest-agent",
  "bacula-director",
  "bacula-director-sqlite3",
  "bacula-sd",
  "bacula-fd",
  "bacula-console",
  "sqlite3",
];

/** Units a test machine needs nothing of, and whose runs would only compete for the CPU. */
const MASKED = [
  "serial-getty@ttyS0.service", // hangs up the serial console the kernel logs to
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "dpkg-db-backup.timer",
  "e2scrub_all.timer",
  "e2scrub_reap.service",
  "fstrim.timer",
  "man-db.timer",
  "logrotate.timer",
];

/** Files written into the image (path -> content); part of the cache key. */
const FILES: Record<string, string> = {
  "/etc/fstab": "/dev/vda / ext4 defaults,errors=remount-ro 0 1\n",
  "/etc/hostname": "magvm\n",
  "/etc/hosts": "127.0.0.1 localhost\n127.0.1.1 magvm\n",
  // The journal survives a power cut (the fault suite reads it after booting again).
  "/etc/systemd/journald.conf.d/magvm.conf":
    "[Journal]\nStorage=persistent\nRateLimitBurst=0\n",
  // Quiet boot messages on the console: the serial log is for the kernel's own.
  "/etc/sysctl.d/90-magvm.conf": "kernel.printk = 4 4 1 7\n",
};

const IMAGE_SIZE = "3G";

export interface GuestImage {
  dir: string;
  root: string;
  kernel: string;
  initrd: string;
}

export function imageKey(): string {
  return createHash("sha256")
    .update(
      JSON.stringify({ SUITE, PACKAGES, MASKED, FILES, IMAGE_SIZE, v: 1 }),
    )
    .digest("hex")
    .slice(0, 16);
}

export function cacheRoot(): string {
  return process.env.MAGCHANGER_VM_CACHE || "/var/cache/magchanger-vm";
}

export function cachedImage(): GuestImage | undefined {
  const image = imagePaths(join(cacheRoot(), imageKey()));
  return existsSync(join(image.dir, "ready")) ? image : undefined;
}

function imagePaths(dir: string): GuestImage {
  return {
    dir,
    root: join(dir, "root.img"),
    kernel: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.img"),
  };
}

type Run = (argv: string[], timeoutMs: number) => void;

const run: Run = (argv, timeoutMs) => {
  const r = Bun.spawnSync(argv, {
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
    env: {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      LANG: "C",
      DEBIAN_FRONTEND: "noninteractive",
    },
  });
  if (r.exitCode !== 0)
    throw new Error(
      `${argv.slice(0, 3).join(" ")} ... failed (exit ${r.exitCode}${r.signalCode ? `, ${r.signalCode}` : ""}): ${r.stderr.toString().slice(-2000)}`,
    );
};

/** The cached image, built first when missing (as root; ~2 min). */
export function ensureImage(log: (line: string) => void): GuestImage {
  const cached = cachedImage();
  if (cached) return cached;
  const root = cacheRoot();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const build = join(root, `.build-${process.pid}-${Date.now()}`);
  mkdirSync(build);
  const tree = join(build, "tree");
  const started = Date.now();
  try {
    log(
      `vm: building the guest image (${SUITE}, ${PACKAGES.length} packages) in ${root}`,
    );
    run(
      [
        "mmdebstrap",
        "--variant=important",
        `--include=${PACKAGES.join(",")}`,
        SUITE,
        tree,
      ],
      900_000,
    );
    customize(tree);
    const boot = join(tree, "boot");
    const kernel = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
    const initrd = readdirSync(boot).find(
      (f) => f.startsWith("initrd.img-") && !/\.(new|dpkg-bak)$/.test(f),
    );
    if (!kernel || !initrd)
      throw new Error(`no kernel or initrd in ${boot}: ${readdirSync(boot)}`);
    const image = imagePaths(build);
    copyFileSync(join(boot, kernel), image.kernel);
    copyFileSync(join(boot, initrd), image.initrd);
    run(
      [
        "mke2fs",
        "-q",
        "-t",
        "ext4",
        "-d",
        tree,
        "-L",
        "vmroot",
        image.root,
        IMAGE_SIZE,
      ],
      300_000,
    );
    rmSync(tree, { recursive: true, force: true });
    writeFileSync(
      join(build, "ready"),
      `${JSON.stringify({ SUITE, PACKAGES, builtIn: Date.now() - started })}\n`,
    );
    const final = join(root, imageKey());
    rmSync(final, { recursive: true, force: true });
    renameSync(build, final);
    log(`vm: image built in ${Math.round((Date.now() - started) / 1000)} s`);
    return imagePaths(final);
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

function customize(tree: string): void {
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(join(tree, path, ".."), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
  const units = join(tree, "etc/systemd/system");
  for (const unit of MASKED) {
    const link = join(units, unit);
    rmSync(link, { force: true });
    symlinkSync("/dev/null", link);
    for (const wants of ["timers.target.wants", "multi-user.target.wants"])
      rmSync(join(units, wants, unit), { force: true });
  }
  mkdirSync(join(tree, "var/log/journal"), { recursive: true });
  chmodSync(join(tree, "root"), 0o700);
}
