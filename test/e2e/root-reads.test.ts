// Issue 19: root reads nothing the run-as user controls unbounded. The walk of the one inventory
// (src/doctor/root-reads.ts, printed in the README's Security boundary): for every entry someone
// other than root controls, the attacker (an unprivileged user, the changer's run-as user and
// owner of the storage daemon's config, as bacula is on Debian) plants in turn a FIFO, a link to
// /dev/zero, a link to a root-only file and a sparse file of 1 GiB where that entry is. Every
// command the entry lists then runs as root against the compiled binary and must end within
// BOUND_MS (not killed), print no byte of the root-only file (a token in a version of that file
// that would otherwise be shown), and stay below RSS_SLACK plus the entry's cap in peak memory
// (sampled from /proc while it runs: the 1 GiB file or /dev/zero read whole would not). Entries
// only root or the kernel control are checked for that premise on this host instead. An entry
// this file does not know how to plant or check fails the test, so the inventory cannot grow
// past its walk. The walk takes about 30 s here; ROOT_READS_TRACE=1 prints every run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { ROOT_READS } from "../../src/doctor/root-reads.ts";
import { untrustedComponent } from "../../src/state/safe-fs.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { rootCases } from "../helpers/root-case.ts";
import { tool } from "../helpers/run.ts";
import {
  argvOf,
  BOUND_MS,
  emptyBay2,
  ensureDisk,
  isMountPoint,
  makeFixture,
  PLANTS,
  placeOf,
  plant,
  runAsRoot,
  secretFor,
  type Walk,
} from "./root-reads-walk.ts";

const SUITE = "root reads: every inventory entry, planted by the run-as user";
const RSS_SLACK = 256 * 1024 * 1024;

/** Where root alone (or the kernel) keeps each such entry on a host: what the premise check reads. */
const ROOTS_OWN: Record<string, string[]> = {
  "DIR_CONFIG (bacula-dir.conf) and its @includes; bconsole.conf": [
    "/etc/bacula/bacula-dir.conf",
    "/etc/bacula/bconsole.conf",
  ],
  "installed files: the udev rule, autofs map, systemd units, Bacula stanzas, man pages, bash completion":
    [
      "/etc/udev/rules.d",
      "/etc/auto.master.d",
      "/etc/systemd/system",
      "/etc/bacula",
      "/usr/local/share/man",
      "/usr/local/share/bash-completion",
    ],
  "luks.key_file": ["/etc/magchanger"],
  "DEVICE: the block device a bay's ext filesystem is mounted from": ["/dev"],
  "/etc/passwd, /etc/group, /etc/nsswitch.conf": [
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
  ],
  "/proc/self/mountinfo, /proc/filesystems, /proc/misc, /proc/sys/kernel/random/boot_id, /sys/block/dm-*, /sys/dev/block/*/dm/name, /sys/class/block/*":
    ["/proc/filesystems", "/proc/misc", "/sys/block", "/sys/class/block"],
  "/run/magchanger/MAPPER.waiting": ["/run", "/run/magchanger"],
};

describe.skipIf(
  skipUnless(
    ["root", "tool:useradd", "tool:setpriv", "tool:mount", "tool:mkfifo"],
    SUITE,
  ),
)(SUITE, () => {
  const cases = rootCases("root-reads");
  const mounts: string[] = [];
  beforeAll(() => cases.start());
  afterAll(async () => {
    for (const at of mounts.reverse())
      if (await isMountPoint(at)) tool(["umount", "-l", "--", at]);
    cases.stop();
  });
  const token = `TOPSECRET${randomBytes(6).toString("hex")}`;
  const walk: Walk = {
    cases,
    mounts,
    as: (argv) => cases.attacker().run(argv),
  };

  const planted = ROOT_READS.filter(
    (e) => e.controller !== "root" && e.controller !== "kernel",
  );
  const rootsOwn = ROOT_READS.filter(
    (e) => e.controller === "root" || e.controller === "kernel",
  );

  for (const entry of planted) {
    const commands = [...new Set([...entry.asRoot, ...entry.afterDrop])]
      // eject unmounts the disk when it gets that far: last, and the disk is made again.
      .sort((a, b) => Number(a === "eject") - Number(b === "eject"));
    test(
      `${entry.path}: ${commands.join(", ")} end in time, show nothing of a root-only file, read within ${entry.cap} bytes`,
      async () => {
        expect(commands.length).toBeGreaterThan(0);
        const f = await makeFixture(walk);
        const secret = secretFor(entry, f, token);
        const findings: string[] = [];
        for (const kind of PLANTS) {
          await ensureDisk(walk, f);
          const p = placeOf(walk, entry, f);
          p.prepare?.();
          plant(walk, kind, p.path, secret);
          for (const command of commands) {
            if (command === "magazine init") emptyBay2(f);
            if (command === "magazine init" && p.bay === 2)
              plant(walk, kind, p.path, secret);
            const { argv, env } = argvOf(command, f, p);
            const r = await runAsRoot(argv, env, RSS_SLACK + (entry.cap ?? 0));
            const what = `${kind} at ${entry.path}, ${command}`;
            if (process.env.ROOT_READS_TRACE)
              console.log(
                `${what}: exit ${r.code} ${r.signal ?? ""} ${Math.round(r.ms)} ms rss ${r.rss}: ${r.output.trim().split("\n").slice(-1)[0]?.slice(0, 160)}`,
              );
            if (r.signal !== null)
              findings.push(
                `${what}: killed by ${r.signal} after ${Math.round(r.ms)} ms (a hang or an unbounded read)`,
              );
            if (r.output.includes(token))
              findings.push(
                `${what}: printed the root-only file: ...${r.output.slice(Math.max(0, r.output.indexOf(token) - 100), r.output.indexOf(token) + 40)}...`,
              );
            if (r.rss > RSS_SLACK + (entry.cap ?? 0))
              findings.push(
                `${what}: peak RSS ${r.rss} bytes, over ${RSS_SLACK} + the cap ${entry.cap}`,
              );
          }
        }
        expect(findings).toEqual([]);
      },
      PLANTS.length * commands.length * BOUND_MS + 60_000,
    );
  }

  test("entries only root or the kernel control are so on this host: nothing there to plant", () => {
    const problems: string[] = [];
    for (const entry of rootsOwn) {
      const paths = ROOTS_OWN[entry.path];
      if (!paths) {
        problems.push(
          `no host paths known for ${entry.path}: add them to ROOTS_OWN`,
        );
        continue;
      }
      for (const path of paths.filter((p) => existsSync(p))) {
        const why = path.startsWith("/proc/")
          ? undefined
          : untrustedComponent(path);
        if (why) problems.push(`${entry.path}: ${why}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
