// Issue 9, item 4 and item 10 (second half): as root, every command reads only a config that root
// alone controls (the file and each directory above it root's and not group/other writable),
// checked on the open fd, so a run-as user who can change a config cannot make root run the
// programs it names. Without root, a config is still read bounded: a FIFO or a huge file must not
// hang. The attacker is a throwaway unprivileged user that plants the files; the binary runs as
// root the way the refresh units, autofs and an admin run it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import { BASE_ENV, BINARY, runBinary, tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser, type TestUser } from "../helpers/users.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const SKIP = skipUnless(
  ["root", "tool:useradd", "tool:setpriv"],
  "root-trust-config tests",
)
  ? "skip"
  : undefined;

describe.skipIf(SKIP !== undefined)(
  "root trusts only configs root alone controls",
  () => {
    let dir = "";
    let marks = "";
    let evil = "";
    let attacker: Attacker;
    let user: TestUser;
    let attackerDir = "";

    /** A config that makes root run evil as bconsole, as root (user = "root"). */
    const hostile = () =>
      `name = "tr"\nwork_dir = "${dir}/work"\nlog_file = "${dir}/tr.log"\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "${dir}/bay"\nallow_unmounted = true\n[bacula]\nbconsole = "${evil}"\ntimeout = 10\n`;
    const ran = () => existsSync(join(marks, "evil-ran"));

    /** The attacker's own copy of text at name in its directory. */
    function plant(name: string, text: string): string {
      const staged = join(dir, `staged-${name}`);
      writeFileSync(staged, text, { mode: 0o644 });
      const target = join(attackerDir, name);
      attacker.run(["cp", "--", staged, target]);
      return target;
    }

    /** Runs as root and requires a config refusal: exit 3, one line naming the file. */
    async function refused(
      args: string[],
      file: string,
      why: string,
      fix = "",
      start = "refusing config",
    ) {
      const result = await runBinary(args, { timeoutMs: 20_000 });
      expect(result.exitCode).toBe(3);
      const lines = result.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toStartWith(`magchanger: ${start} ${file}: ${why}`);
      expect(lines[0]).toEndWith(fix);
      expect(result.ms).toBeLessThan(10_000);
      expect(ran()).toBe(false);
    }

    beforeAll(() => {
      user = ensureTestUser();
      attacker = createAttacker();
      dir = makeTempDir("root-trust");
      marks = join(dir, "marks");
      mkdirSync(marks);
      chmodSync(marks, 0o1777);
      mkdirSync(join(dir, "bay"));
      evil = join(dir, "evil");
      writeFileSync(
        evil,
        `#!/bin/sh\ncat >/dev/null\nid -u >> ${marks}/evil-ran\n`,
        { mode: 0o755 },
      );
      attackerDir = join(dir, "attacker");
      mkdirSync(attackerDir);
      chownSync(attackerDir, attacker.uid, attacker.gid);
    });

    afterAll(() => {
      attacker?.remove();
      if (dir) removeTempDir(dir);
    });

    test("a config the run-as user owns is refused by refresh, changer, magazine, doctor, automap and unlock", async () => {
      const conf = join(dir, "owned.toml");
      writeFileSync(conf, hostile(), { mode: 0o644 });
      chownSync(conf, attacker.uid, attacker.gid);
      const why = `owned by uid ${attacker.uid}, not root`;
      await refused(["refresh", "--force", "-c", conf], conf, why);
      await refused(["changer", conf, "list"], conf, why);
      await refused(["magazine", "list", "-c", conf], conf, why);
      await refused(["automap", "-c", conf, "magazine"], conf, why);
      await refused(["unlock", "--remove", "-c", conf, "tr"], conf, why);
      const doctor = await runBinary(["doctor", "-c", conf]);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toContain(`refusing config ${conf}: ${why}`);
      expect(ran()).toBe(false);
    });

    test("a root-owned config in a directory the run-as user owns is refused, naming the directory", async () => {
      const conf = join(attackerDir, "in-their-dir.toml");
      writeFileSync(conf, hostile(), { mode: 0o644 });
      await refused(
        ["refresh", "--force", "-c", conf],
        conf,
        `${attackerDir} is owned by uid ${attacker.uid}, not root, and it names programs root runs; run: `,
        `chown root:root ${attackerDir}; chmod go-w ${attackerDir} (or move the config to /etc/magchanger)`,
      );
      await refused(["changer", conf, "slots"], conf, attackerDir);
      await refused(["magazine", "list", "-c", conf], conf, attackerDir);
    });

    test("a config in a root directory that its group may write is refused", async () => {
      const shared = join(dir, "shared");
      mkdirSync(shared);
      chownSync(shared, 0, attacker.gid);
      chmodSync(shared, 0o775);
      const conf = join(shared, "c.toml");
      writeFileSync(conf, hostile(), { mode: 0o644 });
      await refused(
        ["refresh", "--force", "-c", conf],
        conf,
        `${shared} is writable by its group (mode 775)`,
      );
      await refused(
        ["automap", "-c", conf, "magazine"],
        conf,
        `${shared} is writable by its group`,
      );
      // Found by discovery, as udev and autofs find it: skipped, and named in the error.
      const found = await runBinary(["unlock", "--remove", "tr"], {
        env: { ...BASE_ENV, MAGCHANGER_CONFIG_DIR: shared },
      });
      expect(found.exitCode).toBe(3);
      expect(found.stderr).toContain(
        `(unusable: refusing config ${conf}: ${shared} is writable by its group`,
      );
      expect(ran()).toBe(false);
    });

    test("a group-writable config file is refused with the chmod that fixes it", async () => {
      const conf = join(dir, "loose.toml");
      writeFileSync(conf, hostile());
      chownSync(conf, 0, attacker.gid);
      chmodSync(conf, 0o664);
      await refused(
        ["refresh", "--force", "-c", conf],
        conf,
        "group/other may write it (mode 664)",
        `; run: chmod go-w ${conf}`,
      );
    });

    test("a root link to a file the run-as user owns, and the user's own link in a sticky directory, are refused", async () => {
      const target = plant("target.toml", hostile());
      const viaRootLink = join(dir, "via-root-link.toml");
      symlinkSync(target, viaRootLink);
      await refused(
        ["refresh", "--force", "-c", viaRootLink],
        viaRootLink,
        `${attackerDir} is owned by uid ${attacker.uid}`,
      );
      const sticky = join(dir, "sticky");
      mkdirSync(sticky);
      chmodSync(sticky, 0o1777);
      const theirLink = join(sticky, "c.toml");
      attacker.run(["ln", "-s", "--", target, theirLink]);
      await refused(
        ["refresh", "--force", "-c", theirLink],
        theirLink,
        `${theirLink} is a symbolic link owned by uid ${attacker.uid}`,
        "or move the config to /etc/magchanger",
      );
    });

    test("as root, a FIFO as the config is refused at once", async () => {
      const fifo = join(dir, "fifo.toml");
      tool(["mkfifo", "-m", "0644", "--", fifo]);
      await refused(
        ["changer", fifo, "list"],
        fifo,
        "not a regular file",
        "",
        "cannot read config",
      );
    });

    // Opening is itself an action on a device (a tape rewinds, a FIFO's writer wakes): a path
    // that is not a regular file, or that leads through the attacker's link, is never opened.
    // A writer blocked in open(2) on the FIFO proves it: it only returns once a reader opens.
    test("as root, a non-regular config, direct or through the attacker's link, is never opened", async () => {
      const fifo = join(attackerDir, "wake.fifo");
      attacker.run(["mkfifo", "-m", "0644", "--", fifo]);
      const link = join(attackerDir, "wake.toml");
      attacker.run(["ln", "-s", "--", fifo, link]);
      const woke = join(marks, "writer-woke");
      const writer = Bun.spawn(
        ["sh", "-c", 'exec 3>"$1" && touch "$2"', "writer", fifo, woke],
        { stdout: "ignore", stderr: "ignore" },
      );
      try {
        for (const conf of [fifo, link]) {
          const result = await runBinary(["changer", conf, "list"], {
            timeoutMs: 20_000,
          });
          expect(result.exitCode).toBe(3);
          expect(result.stderr).toStartWith(`magchanger: `);
          expect(result.stderr).toContain(conf);
        }
        await Bun.sleep(300);
        expect(existsSync(woke)).toBe(false);
      } finally {
        writer.kill("SIGKILL");
        await writer.exited;
      }
    });

    test("without root, a FIFO or a 2 MiB file as the config fails within seconds", async () => {
      const own = join(dir, "own");
      mkdirSync(own);
      chownSync(own, user.uid, user.gid);
      const fifo = join(own, "fifo.toml");
      tool(["mkfifo", "-m", "0644", "--", fifo]);
      chownSync(fifo, user.uid, user.gid);
      const big = join(own, "big.toml");
      writeFileSync(big, `# ${"x".repeat(2 * 1024 * 1024)}\n`);
      chownSync(big, user.uid, user.gid);
      for (const [conf, why] of [
        [fifo, "not a regular file"],
        [big, "larger than"],
      ] as const) {
        const started = performance.now();
        const child = Bun.spawnSync(
          [
            "setpriv",
            `--reuid=${user.uid}`,
            `--regid=${user.gid}`,
            "--init-groups",
            "--",
            BINARY,
            "changer",
            conf,
            "list",
          ],
          { env: BASE_ENV, stdout: "pipe", stderr: "pipe", timeout: 15_000 },
        );
        expect(performance.now() - started).toBeLessThan(10_000);
        expect(child.exitCode).toBe(3);
        expect(child.stderr.toString()).toStartWith(
          `magchanger: cannot read config ${conf}: `,
        );
        expect(child.stderr.toString()).toContain(why);
      }
    });

    test("a root-owned config in root's directories works as root, and refresh runs bconsole as the run-as user", async () => {
      const bconsole = join(dir, "bconsole");
      writeFileSync(
        bconsole,
        `#!/bin/sh\ncat >/dev/null\nid -u >> ${marks}/bconsole-ran\n`,
        { mode: 0o755 },
      );
      const work = join(dir, "good-work");
      const conf = join(dir, "good.toml");
      writeFileSync(
        conf,
        `name = "good"\nwork_dir = "${work}"\nlog_file = "${marks}/good.log"\nuser = "${user.name}"\ngroup = "${user.group}"\n[[magazine]]\npath = "${dir}/bay"\nallow_unmounted = true\n[bacula]\nbconsole = "${bconsole}"\ntimeout = 10\n`,
        { mode: 0o644 },
      );
      mkdirSync(work);
      chownSync(work, user.uid, user.gid);
      const result = await runBinary(["refresh", "--force", "-c", conf]);
      expect(result).toMatchObject({ exitCode: 0, stderr: "" });
      expect(readFileSync(join(marks, "bconsole-ran"), "utf8")).toBe(
        `${user.uid}\n`,
      );
      const slots = await runBinary(["changer", conf, "slots"]);
      expect(slots).toMatchObject({ exitCode: 0, stderr: "" });
    });
  },
);
