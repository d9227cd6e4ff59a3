// What test/e2e/bacula/readme.test.ts does instead of a README line a test machine cannot run
// as written, each with its reason (matched by the line's text: a README change that drops one
// makes the test fail until this table follows).
import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { directive, parseBaculaConf } from "../../../src/bacula/conf.ts";
import { ensureBinary } from "../../helpers/run.ts";
import type { PrivateHost } from "./private-host.ts";
import { describeFailure } from "./processes.ts";
import type { Scratch } from "./scratch.ts";
import { createCatalog } from "./setup.ts";

export interface Ctx {
  host: PrivateHost;
  scratch: Scratch;
  /** The loop devices standing for the USB disk (/dev/sdX1) and its opened LUKS mapping. */
  usb: string;
  opened: string;
}

export interface Replacement {
  line: RegExp;
  why: string;
  run(ctx: Ctx, command: string): Promise<void>;
}

/**
 * Doctor FAILs that only say what a test machine lacks: a kernel without autofs or device-mapper,
 * and no udev daemon (no udevadm, or none running) so the rule can never fire.
 */
const HOST_FAILS = new Set(["autofs kernel", "device-mapper", "udev daemon"]);

export const REPLACED: Replacement[] = [
  {
    line: /^apt-get install -y /,
    why: "a test installs no packages: each named package must be one apt knows (the Bacula ones are installed: skipUnless)",
    async run(ctx, command) {
      const packages = command.split(/\s+/).slice(3);
      expect(packages).toContain("bacula-fd");
      await ctx.host.must([
        "apt-cache",
        "show",
        "--no-all-versions",
        ...packages,
      ]);
    },
  },
  {
    line: /^npm install && npm run build/,
    why: "the suite built dist/magchanger already; rebuilding would replace it under the other test files",
    async run() {
      ensureBinary();
    },
  },
  {
    line: /^\$EDITOR \/etc\/bacula\/magchanger-usbchanger1-dir\.conf/,
    why: "no editor: the edit its comment names, Address = localhost and the Password of the SD's Director resource",
    async run(ctx) {
      const dirConf = parseBaculaConf(
        await cat(ctx, "/etc/bacula/bacula-dir.conf"),
        "dir",
      );
      const director = dirConf.find((r) => r.type === "director");
      const sd = parseBaculaConf(
        await cat(ctx, "/etc/bacula/bacula-sd.conf"),
        "sd",
      ).find(
        (r) =>
          r.type === "director" &&
          directive(r, "Name") === directive(director!, "Name"),
      );
      const file = "/etc/bacula/magchanger-usbchanger1-dir.conf";
      const text = (await cat(ctx, file))
        .replace('Address = "CHANGE-ME"', 'Address = "localhost"')
        .replace(
          'Password = "CHANGE-ME"',
          `Password = "${directive(sd!, "Password")}"`,
        );
      writeFileSync(join(ctx.scratch.root, "etc", file.slice(5)), text);
    },
  },
  {
    line: /^udevadm control --reload; systemctl daemon-reload; systemctl reload autofs; systemctl restart bacula-sd bacula-director$/,
    why: "no udev, systemd or autofs here: the catalog dbconfig-common makes at install is created, then bacula-fd, -sd and -dir start as their Debian units run them (User=/Group=, -fP -c /etc/bacula/X.conf)",
    run: startDaemons,
  },
  {
    line: /^systemctl enable --now magchanger-refresh@usbchanger1\.timer/,
    why: "no systemd here: the timer only retries a refresh that failed",
    async run() {},
  },
  {
    line: /^cryptsetup luksFormat --batch-mode --key-file \/etc\/magchanger\/luks\.key \/dev\/sdX1$/,
    why: "runs as written, on a loop device standing for /dev/sdX1",
    async run(ctx, command) {
      await ctx.host.must(
        ["bash", "-c", command.replace("/dev/sdX1", ctx.usb)],
        { timeoutMs: 120_000 },
      );
    },
  },
  {
    line: /^echo 'type=83' \| sfdisk \/dev\/sdX /,
    why: "a loop device stands for the partition /dev/sdX1 itself: no partition table is made (the VM suite, test/vm, runs this line on a real USB disk)",
    async run() {},
  },
  {
    line: /^udevadm trigger --settle --action=change \/dev\/sdX1 /,
    why: "no udev and no device-mapper in this kernel (cryptsetup open fails): /dev/mapper/bacula is a link, as udev makes it, to a second loop device standing for the opened disk",
    async run(ctx) {
      await ctx.host.must(["mkdir", "-p", "/dev/mapper"]);
      await ctx.host.must(["ln", "-s", ctx.opened, "/dev/mapper/bacula"]);
    },
  },
  {
    line: /^mkfs\.ext4 -m 0 -L usbchanger1 \/dev\/mapper\/bacula/,
    why: "runs as written; then, as this kernel has no autofs, the disk is mounted where and how the program map /etc/auto.usbchanger1 answers automount's lookup of `magazine`",
    async run(ctx, command) {
      await ctx.host.must(["bash", "-c", command]);
      await ctx.host.must(["mkdir", "-p", "/mnt/usbchanger1"]);
      const entry = (
        await ctx.host.must(["/etc/auto.usbchanger1", "magazine"], {
          cwd: "/mnt/usbchanger1",
        })
      ).stdout.trim();
      const m = /^-fstype=([^,\s]+),(\S+) :(\S+)$/.exec(entry);
      expect(m, entry).not.toBeNull();
      await ctx.host.must(["mkdir", "-p", "/mnt/usbchanger1/magazine"]);
      await ctx.host.must([
        "mount",
        "-t",
        m![1]!,
        "-o",
        m![2]!,
        "--",
        m![3]!,
        "/mnt/usbchanger1/magazine",
      ]);
    },
  },
  {
    line: /^magchanger doctor -c \/etc\/magchanger\/usbchanger1\.toml/,
    why: "runs as written; it exits 1 here, as the kernel lacks autofs and device-mapper and no udev daemon runs: every other check must pass",
    async run(ctx, command) {
      const r = await ctx.host.run([
        "bash",
        "-c",
        `${command.split("#")[0]} --json`,
      ]);
      const checks = (
        JSON.parse(r.stdout) as {
          checks: { name: string; status: string; message: string }[];
        }
      ).checks;
      const failed = checks.filter((c) => c.status === "fail");
      expect(
        failed.filter((c) => !HOST_FAILS.has(c.name)),
        r.stdout,
      ).toEqual([]);
      expect(r.exitCode).toBe(failed.length ? 1 : 0);
      const notOk = checks.filter((c) => c.status !== "ok");
      console.info(
        `readme: doctor here: ${notOk.map((c) => `${c.status.toUpperCase()} ${c.name}: ${c.message}`).join("; ")}`,
      );
    },
  },
];

async function cat(ctx: Ctx, path: string): Promise<string> {
  return (await ctx.host.must(["cat", "--", path])).stdout;
}

async function startDaemons(ctx: Ctx): Promise<void> {
  const db = join(ctx.scratch.root, "bacula.db");
  await createCatalog("/usr/bin/sqlite3", db);
  await ctx.host.must([
    "install",
    "-o",
    "bacula",
    "-g",
    "bacula",
    "-m",
    "0640",
    db,
    "/var/lib/bacula/bacula.db",
  ]);
  for (const [unit, user, group, daemon] of [
    ["fd", "root", "root", "bacula-fd"],
    ["sd", "bacula", "tape", "bacula-sd"],
    ["dir", "bacula", "bacula", "bacula-dir"],
  ] as const) {
    const conf = `/etc/bacula/${daemon === "bacula-dir" ? "bacula-dir" : daemon}.conf`;
    const argv = [
      "setpriv",
      `--reuid=${user}`,
      `--regid=${group}`,
      "--init-groups",
      `/usr/sbin/${daemon}`,
    ];
    await ctx.host.must([...argv, "-t", "-c", conf]);
    ctx.host.daemon(`bacula-${unit}`, [...argv, "-fP", "-c", conf]);
  }
  // Ready when the Director reaches both: one "Daemon started" per daemon.
  for (let i = 0; ; i++) {
    const r = await ctx.host.run(
      ["bconsole", "-n", "-c", "/etc/bacula/bconsole.conf"],
      {
        stdin:
          'status dir\nstatus storage="usbchanger1"\nstatus client\nquit\n',
        timeoutMs: 30_000,
      },
    );
    if (r.stdout.split("Daemon started").length - 1 >= 3) return;
    if (i > 100)
      throw new Error(`Bacula did not come up:\n${describeFailure(r)}`);
    await Bun.sleep(200);
  }
}
