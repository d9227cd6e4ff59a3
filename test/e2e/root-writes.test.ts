// Root writes that follow links (issue: root paths never follow). A throwaway unprivileged user,
// the changer's run-as user, plants links in the directories it owns (the log dir, a parent of
// the work dir, a bay's parent); the compiled binary then runs as root the way udev
// (`unlock`), an admin (`setup --write`, `magazine init`, INITMAG, `doctor`) would. Nothing
// outside may be created, chowned or written, and the legitimate case still works.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BASE_ENV, runBinary } from "../helpers/run.ts";
import { createFakeTools, type FakeTools } from "../unlock/fakes.ts";
import { expectUntouched, lineCount, rootCases } from "../helpers/root-case.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const SKIP = skipUnless(
  ["root", "tool:useradd", "tool:setpriv"],
  "root-writes e2e",
)
  ? "skip"
  : undefined;

const cases = rootCases("root-writes");
beforeAll(() => {
  if (!SKIP) cases.start();
});
afterAll(() => cases.stop());

describe.skipIf(SKIP !== undefined)(
  "item 1: unlock (udev) never writes the log through a planted link",
  () => {
    let fakes: FakeTools;
    const unlockCase = (logDirOf: (dir: string) => string) => {
      const c = cases.newCase();
      fakes = createFakeTools(join(c.dir, "tools"));
      const confDir = join(c.dir, "etc");
      mkdirSync(confDir);
      const logDir = logDirOf(c.dir);
      const conf = [
        `name = "usb"`,
        `work_dir = "${join(c.dir, "work")}"`,
        `log_file = "${join(logDir, "usb.log")}"`,
        `log_level = "debug"`,
        cases.runAsLines(),
        `[[magazine]]\npath = "${join(c.dir, "bay")}"`,
        `[luks]\nkey_file = "${join(c.dir, "key")}"\nmapper = "mgw${cases.number()}"`,
        `[tools]\ncryptsetup = "${fakes.cryptsetup}"\numount = "${fakes.umount}"`,
        `dmsetup = "${fakes.dmsetup}"\nsystemctl = "${fakes.systemctl}"\n`,
      ].join("\n");
      writeFileSync(join(confDir, "usb.toml"), conf, { mode: 0o644 });
      const run = () =>
        runBinary(["unlock", `mgw${cases.number()}`], {
          env: {
            ...BASE_ENV,
            ACTION: "remove",
            DEVNAME: "/dev/sdzz1",
            MAGCHANGER_CONFIG_DIR: confDir,
            MAGCHANGER_SYSTEMD_ROOT: join(c.dir, "sys"),
          },
          timeoutMs: 20_000,
        });
      return { ...c, logDir, log: join(logDir, "usb.log"), run };
    };

    test("a log file that is a link to a missing root path is neither created nor chowned", async () => {
      const c = unlockCase((dir) => cases.attackerDir(join(dir, "log")));
      const target = join(c.victim, "ld.so.preload");
      cases.plantLink(target, c.log);
      const result = await c.run();
      expect(existsSync(target)).toBe(false);
      expectUntouched(c);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain("symbolic link");
    });

    test("a log file that is a link to an existing root file is not appended to", async () => {
      const c = unlockCase((dir) => cases.attackerDir(join(dir, "log")));
      cases.plantLink(c.victimFile, c.log);
      const result = await c.run();
      expectUntouched(c);
      expect(result.exitCode).toBe(0);
    });

    test("a log dir that is a link planted in a run-as user's directory is not written into", async () => {
      const c = unlockCase((dir) =>
        join(cases.attackerDir(join(dir, "var")), "log"),
      );
      cases.plantLink(c.victim, c.logDir);
      const result = await c.run();
      expectUntouched(c);
      expect(result.exitCode).toBe(0);
    });

    test("legitimate: a missing log is created in the run-as user's log dir, owned by that user", async () => {
      const c = unlockCase((dir) => cases.attackerDir(join(dir, "log")));
      const result = await c.run();
      expect(result.exitCode).toBe(0);
      expect(readFileSync(c.log, "utf8")).toContain("unlock[");
      expect(lstatSync(c.log)).toMatchObject({ uid: cases.attacker().uid });
      // And again, appending to the run-as user's own file.
      expect((await c.run()).exitCode).toBe(0);
      expect(
        readFileSync(c.log, "utf8").split("\n").filter(Boolean).length,
      ).toBeGreaterThan(1);
    });
  },
);

describe.skipIf(SKIP !== undefined)(
  "item 1: doctor never advises root to chown a link",
  () => {
    test("a log file that is a link is reported as a link to remove, not a chown", async () => {
      const c = cases.newCase();
      const logDir = cases.attackerDir(join(c.dir, "log"));
      mkdirSync(join(c.dir, "bay"));
      const conf = join(c.dir, "c.toml");
      writeFileSync(
        conf,
        `name = "doc"\nwork_dir = "${join(c.dir, "work")}"\nlog_file = "${join(logDir, "doc.log")}"\n${cases.runAsLines()}[[magazine]]\npath = "${join(c.dir, "bay")}"\nallow_unmounted = true\n`,
      );
      cases.plantLink(c.victimFile, join(logDir, "doc.log"));
      const result = await runBinary(["doctor", "-c", conf, "--json"], {
        timeoutMs: 30_000,
      });
      const { checks } = JSON.parse(result.stdout) as {
        checks: { name: string; message: string; fix?: string }[];
      };
      const log = checks.find((ch) => ch.name === "log");
      const text = JSON.stringify(log);
      expect(text).toContain("symbolic link");
      expect(text).not.toContain("chown");
      expect(JSON.stringify(checks)).not.toContain(
        `chown ${cases.attacker().name}:${cases.attacker().name} ${join(logDir, "doc.log")}`,
      );
      expectUntouched(c);
    });
  },
);

describe.skipIf(SKIP !== undefined)(
  "item 2: setup --write never chowns or claims through a planted link",
  () => {
    /** A staging root with the run-as user's /var/lib/bacula and /var/log/magchanger. */
    const setupCase = () => {
      const c = cases.newCase();
      const prefix = join(c.dir, "root");
      mkdirSync(join(prefix, "etc/magchanger"), { recursive: true });
      mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
      writeFileSync(
        join(prefix, "etc/bacula/bacula-sd.conf"),
        "Storage {\n  Name = sd\n}\n",
      );
      mkdirSync(join(prefix, "var/lib"), { recursive: true, mode: 0o755 });
      mkdirSync(join(prefix, "var/log"), { recursive: true, mode: 0o755 });
      const lib = cases.attackerDir(join(prefix, "var/lib/bacula"));
      const logDir = cases.attackerDir(join(prefix, "var/log/magchanger"));
      const conf = join(prefix, "etc/magchanger/c1.toml");
      writeFileSync(
        conf,
        `name = "c1"\nwork_dir = "/var/lib/bacula/c1"\nlog_file = "/var/log/magchanger/c1.log"\n${cases.runAsLines()}[[magazine]]\npath = "/mnt/c1/magazine"\n`,
      );
      const run = () =>
        runBinary(["setup", "-c", conf, "--prefix", prefix, "--write"], {
          timeoutMs: 30_000,
        });
      return { ...c, prefix, lib, logDir, run };
    };

    test("a work dir planted as a link in the run-as user's /var/lib/bacula is refused, its target not chowned", async () => {
      const c = setupCase();
      cases.plantLink(c.victim, join(c.lib, "c1"));
      const result = await c.run();
      expectUntouched(c);
      expect(result.exitCode).not.toBe(0);
      expect(lineCount(result.stderr)).toBe(1);
      expect(result.stderr).toContain(join(c.lib, "c1"));
      expect(result.stderr).toContain("symbolic link");
    });

    test("an existing log file that is a link to a root file is refused, the file not chowned", async () => {
      const c = setupCase();
      cases.plantLink(c.victimFile, join(c.logDir, "c1.log"));
      const result = await c.run();
      expectUntouched(c);
      expect(result.exitCode).not.toBe(0);
      expect(lineCount(result.stderr)).toBe(1);
      expect(result.stderr).toContain(join(c.logDir, "c1.log"));
      expect(result.stderr).toContain("symbolic link");
    });

    test("legitimate: the work dir and log are created owned by the run-as user, and a rerun changes nothing", async () => {
      const c = setupCase();
      const first = await c.run();
      expect(first.stderr).toBe("");
      expect(first.exitCode).toBe(0);
      for (const path of [join(c.lib, "c1"), join(c.logDir, "c1.log")])
        expect(lstatSync(path)).toMatchObject({
          uid: cases.attacker().uid,
          gid: cases.attacker().gid,
        });
      const again = await c.run();
      expect(again.exitCode).toBe(0);
      expect(again.stdout).not.toMatch(/^(created|changed) /m);
    });
  },
);
