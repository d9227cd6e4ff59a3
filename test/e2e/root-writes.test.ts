// Root writes that follow links (issue: root paths never follow). A throwaway unprivileged user,
// the changer's run-as user, plants links in the directories it owns (the log dir, a parent of
// the work dir, a bay's parent); the compiled binary then runs as root the way udev
// (`unlock`), an admin (`setup --write`, `magazine init`, INITMAG, `doctor`) would. Nothing
// outside may be created, chowned or written, and the legitimate case still works.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import { BASE_ENV, runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { createFakeTools, type FakeTools } from "../unlock/fakes.ts";

const SKIP =
  process.getuid?.() !== 0
    ? "needs root (creates a user, runs the binary as root)"
    : undefined;
if (SKIP) console.warn(`skipping root-writes e2e: ${SKIP}`);

let base = "";
let evil: Attacker | undefined;
let n = 0;

beforeAll(() => {
  if (SKIP) return;
  base = makeTempDir("root-writes");
  evil = createAttacker();
});
afterAll(() => {
  evil?.remove();
  if (base) removeTempDir(base);
});

const attacker = () => evil as Attacker;

/** A fresh case dir (root's, 0755) with a root-only victim dir holding a root file. */
function newCase() {
  n += 1;
  const dir = join(base, `case${n}`);
  const victim = join(dir, "victim");
  mkdirSync(dir, { mode: 0o755 });
  mkdirSync(victim, { mode: 0o700 });
  const victimFile = join(victim, "root-file");
  writeFileSync(victimFile, "root's own\n", { mode: 0o600 });
  return { dir, victim, victimFile };
}

/** A directory owned by the attacker (as /var/log/magchanger or /var/lib/bacula are bacula's). */
function attackerDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o755 });
  chownSync(path, attacker().uid, attacker().gid);
  return path;
}

function plantLink(target: string, link: string): void {
  attacker().run(["ln", "-s", "--", target, link]);
}

function expectUntouched(victim: string, victimFile: string): void {
  expect(readdirSync(victim)).toEqual(["root-file"]);
  expect(readFileSync(victimFile, "utf8")).toBe("root's own\n");
  for (const path of [victim, victimFile])
    expect(statSync(path)).toMatchObject({ uid: 0, gid: 0 });
}

const oneLine = (stderr: string) => stderr.trim().split("\n").length;

function runAsLines(user: Attacker): string {
  return `user = "${user.name}"\ngroup = "${user.name}"\n`;
}

describe.skipIf(SKIP !== undefined)(
  "item 1: unlock (udev) never writes the log through a planted link",
  () => {
    let fakes: FakeTools;
    const unlockCase = (logDirOf: (dir: string) => string) => {
      const c = newCase();
      fakes = createFakeTools(join(c.dir, "tools"));
      const confDir = join(c.dir, "etc");
      mkdirSync(confDir);
      const logDir = logDirOf(c.dir);
      const conf = [
        `name = "usb"`,
        `work_dir = "${join(c.dir, "work")}"`,
        `log_file = "${join(logDir, "usb.log")}"`,
        `log_level = "debug"`,
        runAsLines(attacker()),
        `[[magazine]]\npath = "${join(c.dir, "bay")}"`,
        `[luks]\nkey_file = "${join(c.dir, "key")}"\nmapper = "mgw${n}"`,
        `[tools]\ncryptsetup = "${fakes.cryptsetup}"\numount = "${fakes.umount}"`,
        `dmsetup = "${fakes.dmsetup}"\nsystemctl = "${fakes.systemctl}"\n`,
      ].join("\n");
      writeFileSync(join(confDir, "usb.toml"), conf, { mode: 0o644 });
      const run = () =>
        runBinary(["unlock", `mgw${n}`], {
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
      const c = unlockCase((dir) => attackerDir(join(dir, "log")));
      const target = join(c.victim, "ld.so.preload");
      plantLink(target, c.log);
      const result = await c.run();
      expect(existsSync(target)).toBe(false);
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain("symbolic link");
    });

    test("a log file that is a link to an existing root file is not appended to", async () => {
      const c = unlockCase((dir) => attackerDir(join(dir, "log")));
      plantLink(c.victimFile, c.log);
      const result = await c.run();
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).toBe(0);
    });

    test("a log dir that is a link planted in a run-as user's directory is not written into", async () => {
      const c = unlockCase((dir) => join(attackerDir(join(dir, "var")), "log"));
      plantLink(c.victim, c.logDir);
      const result = await c.run();
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).toBe(0);
    });

    test("legitimate: a missing log is created in the run-as user's log dir, owned by that user", async () => {
      const c = unlockCase((dir) => attackerDir(join(dir, "log")));
      const result = await c.run();
      expect(result.exitCode).toBe(0);
      expect(readFileSync(c.log, "utf8")).toContain("unlock[");
      expect(lstatSync(c.log)).toMatchObject({ uid: attacker().uid });
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
      const c = newCase();
      const logDir = attackerDir(join(c.dir, "log"));
      mkdirSync(join(c.dir, "bay"));
      const conf = join(c.dir, "c.toml");
      writeFileSync(
        conf,
        `name = "doc"\nwork_dir = "${join(c.dir, "work")}"\nlog_file = "${join(logDir, "doc.log")}"\n${runAsLines(attacker())}[[magazine]]\npath = "${join(c.dir, "bay")}"\nallow_unmounted = true\n`,
      );
      plantLink(c.victimFile, join(logDir, "doc.log"));
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
        `chown ${attacker().name}:${attacker().name} ${join(logDir, "doc.log")}`,
      );
      expectUntouched(c.victim, c.victimFile);
    });
  },
);

describe.skipIf(SKIP !== undefined)(
  "item 2: setup --write never chowns or claims through a planted link",
  () => {
    /** A staging root with the run-as user's /var/lib/bacula and /var/log/magchanger. */
    const setupCase = () => {
      const c = newCase();
      const prefix = join(c.dir, "root");
      mkdirSync(join(prefix, "etc/magchanger"), { recursive: true });
      mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
      writeFileSync(
        join(prefix, "etc/bacula/bacula-sd.conf"),
        "Storage {\n  Name = sd\n}\n",
      );
      mkdirSync(join(prefix, "var/lib"), { recursive: true, mode: 0o755 });
      mkdirSync(join(prefix, "var/log"), { recursive: true, mode: 0o755 });
      const lib = attackerDir(join(prefix, "var/lib/bacula"));
      const logDir = attackerDir(join(prefix, "var/log/magchanger"));
      const conf = join(prefix, "etc/magchanger/c1.toml");
      writeFileSync(
        conf,
        `name = "c1"\nwork_dir = "/var/lib/bacula/c1"\nlog_file = "/var/log/magchanger/c1.log"\n${runAsLines(attacker())}[[magazine]]\npath = "/mnt/c1/magazine"\n`,
      );
      const run = () =>
        runBinary(["setup", "-c", conf, "--prefix", prefix, "--write"], {
          timeoutMs: 30_000,
        });
      return { ...c, prefix, lib, logDir, run };
    };

    test("a work dir planted as a link in the run-as user's /var/lib/bacula is refused, its target not chowned", async () => {
      const c = setupCase();
      plantLink(c.victim, join(c.lib, "c1"));
      const result = await c.run();
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).not.toBe(0);
      expect(oneLine(result.stderr)).toBe(1);
      expect(result.stderr).toContain(join(c.lib, "c1"));
      expect(result.stderr).toContain("symbolic link");
    });

    test("an existing log file that is a link to a root file is refused, the file not chowned", async () => {
      const c = setupCase();
      plantLink(c.victimFile, join(c.logDir, "c1.log"));
      const result = await c.run();
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).not.toBe(0);
      expect(oneLine(result.stderr)).toBe(1);
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
          uid: attacker().uid,
          gid: attacker().gid,
        });
      const again = await c.run();
      expect(again.exitCode).toBe(0);
      expect(again.stdout).not.toMatch(/^(created|changed) /m);
    });
  },
);

describe.skipIf(SKIP !== undefined)(
  "item 3: magazine init and INITMAG never chown or write into a planted bay link",
  () => {
    /** A changer whose bay (and optionally work dir) sits in a run-as user's directory. */
    const initCase = () => {
      const c = newCase();
      const parent = attackerDir(join(c.dir, "srv"));
      const bay = join(parent, "bay");
      const conf = join(c.dir, "c.toml");
      writeFileSync(
        conf,
        `name = "m${n}"\nwork_dir = "${join(parent, "state", "work")}"\nlog_file = "${join(parent, "log", "m.log")}"\n${runAsLines(attacker())}[[magazine]]\npath = "${bay}"\nallow_unmounted = true\n`,
      );
      const init = () =>
        runBinary(["magazine", "init", "-c", conf, "1", "--volumes", "2"], {
          timeoutMs: 30_000,
        });
      const initmag = () =>
        runBinary([conf, "INITMAG", "1"], { timeoutMs: 30_000 });
      return { ...c, parent, bay, init, initmag };
    };

    test("magazine init: a bay that is a link in the run-as user's directory is refused, its target untouched", async () => {
      const c = initCase();
      plantLink(c.victim, c.bay);
      const result = await c.init();
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).not.toBe(0);
      expect(oneLine(result.stderr)).toBe(1);
      expect(result.stderr).toContain(c.bay);
      expect(result.stderr).toContain("symbolic link");
    });

    test("INITMAG: a bay that is a link in the run-as user's directory is refused, its target untouched", async () => {
      const c = initCase();
      plantLink(c.victim, c.bay);
      const result = await c.initmag();
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).not.toBe(0);
      expect(oneLine(result.stderr)).toBe(1);
      expect(result.stderr).toContain("symbolic link");
    });

    test("magazine init: a work dir reached through a planted link is not created or chowned", async () => {
      const c = initCase();
      mkdirSync(c.bay);
      plantLink(c.victim, join(c.parent, "state"));
      const result = await c.init();
      expectUntouched(c.victim, c.victimFile);
      expect(result.exitCode).not.toBe(0);
      expect(oneLine(result.stderr)).toBe(1);
      expect(result.stderr).toContain(join(c.parent, "state"));
    });

    test("legitimate: a real bay is handed to the run-as user and gets its identity and volumes", async () => {
      const c = initCase();
      mkdirSync(c.bay);
      const result = await c.init();
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(lstatSync(c.bay)).toMatchObject({
        uid: attacker().uid,
        gid: attacker().gid,
      });
      expect(lstatSync(join(c.parent, "state", "work"))).toMatchObject({
        uid: attacker().uid,
      });
      const names = readdirSync(c.bay);
      expect(
        names.filter((name) => name.startsWith(".magchanger-")),
      ).toHaveLength(1);
      expect(names.filter((name) => !name.startsWith("."))).toHaveLength(2);
    });

    test("legitimate: INITMAG on a real bay creates the magazine", async () => {
      const c = initCase();
      mkdirSync(c.bay);
      const result = await c.initmag();
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("created magazine");
      expect(lstatSync(c.bay)).toMatchObject({ uid: attacker().uid });
    });
  },
);
