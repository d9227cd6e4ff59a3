// The inventory of every file a root command opens (src/doctor/root-reads.ts) is the README's:
// its Security boundary section lists exactly these entries, in this order. And the inventory
// stays whole: a file of src/ that opens or reads files by path outside the bounded reader is
// either one that reads only root's or the kernel's files (named here, with why) or a failure.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  ROOT_COMMANDS,
  ROOT_READS,
  type RootRead,
} from "../../src/doctor/root-reads.ts";
import { formatBytes } from "../../src/text.ts";
import { SRC } from "../helpers/imports.ts";

const README = resolve(import.meta.dir, "../../README.md");
const INTRO = "**Every file a command started as root opens**";

const OWNER: Record<RootRead["controller"], string> = {
  root: "root's",
  kernel: "the kernel's",
  caller: "named by the caller",
  "run-as user": "the run-as user's",
  disk: "on a disk",
  "storage daemon's user": "the storage daemon's user's",
};

/** One README bullet per entry. */
function readmeBullet(e: RootRead): string {
  const by = [
    e.asRoot.length ? `as root by ${e.asRoot.join(", ")}` : "",
    e.afterDrop.length
      ? `after the drop to the run-as user by ${e.afterDrop.join(", ")}`
      : "",
  ].filter(Boolean);
  const cap = e.cap ? `; at most ${formatBytes(e.cap)}` : "";
  return `- \`${e.path}\` (${OWNER[e.controller]}): used ${by.join("; ")}: ${e.how}${cap}.`;
}

const squeeze = (text: string) => text.replaceAll(/\s+/g, " ").trim();

describe("the inventory of root's reads", () => {
  test("the README's Security boundary lists every entry as the inventory says, in order", () => {
    const text = readFileSync(README, "utf8");
    const start = text.indexOf(INTRO);
    expect(start).toBeGreaterThan(text.indexOf("## Security boundary"));
    const end = text.indexOf("\n\nCaveats:", start);
    const listed = text
      .slice(text.indexOf("\n- ", start) + 1, end)
      .split(/\n(?=- )/)
      .map(squeeze);
    expect(listed).toEqual(ROOT_READS.map((e) => squeeze(readmeBullet(e))));
  });

  test("every entry names the commands that open it, and every root command opens something", () => {
    for (const e of ROOT_READS)
      expect(e.asRoot.length + e.afterDrop.length).toBeGreaterThan(0);
    const used = new Set(
      ROOT_READS.flatMap((e) => [...e.asRoot, ...e.afterDrop]),
    );
    expect([...ROOT_COMMANDS].filter((c) => !used.has(c))).toEqual([]);
  });

  test("what others control always has a cap (0: opened, never read)", () => {
    const uncapped = ROOT_READS.filter(
      (e) => e.controller !== "root" && e.controller !== "kernel",
    ).filter((e) => e.cap === undefined);
    expect(uncapped).toEqual([]);
  });
});

/**
 * Files of src/ that open or read by path without state/safe-fs.ts's bounded reader, and why
 * that is safe. A new one fails the test below: read through safe-fs (and add the file to the
 * inventory), or say here why only root or the kernel can put something there.
 */
const PLAIN_READERS: Record<string, string> = {
  "state/safe-fs.ts": "the bounded, no-follow, regular-file-only reader itself",
  "state/safe-create.ts":
    "creates and appends with O_NOFOLLOW and owner checks; reads nothing",
  "state/atomic.ts":
    "creates its own temp files (O_EXCL) and opens directories to fsync them",
  "state/lock.ts":
    "the lock: opened O_NOFOLLOW|O_NONBLOCK, owner checked, never read",
  "config/read.ts":
    "CONFIG: path checked as root's, regular file, fd checked, capped",
  "config/cache.ts":
    "WORK_DIR/config.cache.json after the drop: O_NOFOLLOW|O_NONBLOCK, fstat, capped",
  "disk/identity.ts":
    "creates the identity (O_EXCL, O_DIRECTORY|O_NOFOLLOW); reads through safe-fs",
  "disk/discover.ts":
    "opens AUTOMOUNT_DIR/UUID with O_DIRECTORY|O_NONBLOCK to trigger autofs; reads nothing",
  "changer/init.ts": "creates empty volume files (wx); reads nothing",
  "events/deliver.ts":
    "creates and locks deliver.lock, opens a notifier's .running to test its lock (O_NOFOLLOW); reads nothing",
  "setup/files.ts":
    "opens directories and files it creates through fds (O_NOFOLLOW); reads through safe-fs",
  "system/ext4.ts":
    "DEVICE: the mount's own block device only, checked by device number",
  "system/identity.ts": "/etc/passwd and /etc/group: root's",
  "system/groups.ts": "/etc/group and /etc/nsswitch.conf: root's",
  "system/kernel.ts":
    "/proc/filesystems, /proc/misc, /proc/PID/comm: the kernel's",
  "system/mounts.ts": "/proc/self/mountinfo: the kernel's",
  "system/dm.ts":
    "/sys/block/dm-*: a mapping's name, dev, dm UUID and the devices below it: the kernel's",
  "unlock/release.ts": "/proc/self/mountinfo: the kernel's",
  "bacula/eject-target.ts": "/sys/dev/block/*/dm/name: the kernel's",
};

describe("no file of src/ reads by path past the inventory", () => {
  test("every plain open or read is in a file known to read only root's, the kernel's or its own files", () => {
    const plain =
      /\b(?:readFileSync|openSync|readFile|createReadStream)\(|\bBun\.file\(/;
    const readers = readdirSync(SRC, { recursive: true })
      .map(String)
      .filter((name) => name.endsWith(".ts"))
      .filter((name) =>
        readFileSync(join(SRC, name), "utf8")
          .split("\n")
          .some((line) => !/^\s*(\/\/|\*)/.test(line) && plain.test(line)),
      )
      .sort();
    expect(readers.filter((f) => !(f in PLAIN_READERS))).toEqual([]);
    // ...and the list names no file that no longer reads anything plainly.
    expect(
      Object.keys(PLAIN_READERS).filter((f) => !readers.includes(f)),
    ).toEqual([]);
  });
});
