// Issue 9, item 7: the changer lock (flock on WORK_DIR/lock) is the run-as user's alone. flock
// works on a read-only fd, so a lock file its group may read let any member of the changer's
// group hold the lock for ever and wedge every changer call ("busy"). The lock file is created
// 0600, and an older one with group/other bits is narrowed through its fd.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import { TestChanger } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import { tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser, type TestUser } from "../helpers/users.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const SKIP = skipUnless(
  ["root", "tool:useradd", "tool:setpriv", "tool:flock"],
  "root-trust-lock tests",
)
  ? "skip"
  : undefined;

describe.skipIf(SKIP !== undefined)(
  "the changer lock is the run-as user's alone",
  () => {
    let dir = "";
    let user: TestUser;
    let attacker: Attacker;
    let changer: TestChanger;
    let holders: Bun.Subprocess[] = [];
    const lock = () => join(changer.workDir, "lock");

    /** The attacker, a member of the changer's group, tries to hold the lock for 30 s. */
    async function tryToHold(): Promise<{ held: boolean; stderr: string }> {
      const child = Bun.spawn(
        [
          "setpriv",
          `--reuid=${attacker.uid}`,
          `--regid=${attacker.gid}`,
          "--init-groups",
          "--",
          "flock",
          "--nonblock",
          "--no-fork",
          "--",
          lock(),
          "sleep",
          "30",
        ],
        { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
      );
      holders.push(child);
      const exited = await Promise.race([
        child.exited,
        Bun.sleep(1000).then(() => undefined),
      ]);
      return {
        held: exited === undefined,
        stderr:
          exited === undefined ? "" : await new Response(child.stderr).text(),
      };
    }

    beforeAll(async () => {
      user = ensureTestUser();
      attacker = createAttacker();
      tool(["usermod", "-aG", user.group, "--", attacker.name]);
      dir = makeTempDir("root-trust-lock");
      const bay = join(dir, "bay");
      mkdirSync(bay);
      chownSync(bay, user.uid, user.gid);
      changer = new TestChanger(dir, {
        name: "lk1",
        drives: 1,
        user: user.name,
        group: user.group,
        lockTimeout: 3,
        bays: [{ path: bay, allowUnmounted: true }],
      });
      await changer.init(1, 2);
    });

    afterAll(() => {
      for (const child of holders) child.kill("SIGKILL");
      attacker?.remove();
      if (dir) removeTempDir(dir);
    });

    test("the lock file is created 0600, owned by the run-as user", () => {
      const stats = statSync(lock());
      expect(stats.mode & 0o777).toBe(0o600);
      expect(stats.uid).toBe(user.uid);
    });

    test("a member of the changer's group cannot open the lock, so load and unload never wait on it", async () => {
      const attempt = await tryToHold();
      expect(attempt.held).toBe(false);
      expect(attempt.stderr).toContain("Permission denied");
      expectSuccess(await changer.sd("load", 1, 0));
      expectSuccess(await changer.sd("unload", 1, 0));
    });

    test("an older lock file with group/other bits is narrowed to 0600 by the next changer call", async () => {
      chmodSync(lock(), 0o664);
      expectSuccess(await changer.sd("load", 2, 0));
      expect(statSync(lock()).mode & 0o777).toBe(0o600);
      expect((await tryToHold()).held).toBe(false);
      expectSuccess(await changer.sd("unload", 2, 0));
    });

    test("a lock file someone else owns, with group/other bits, is refused with the fix, not used", async () => {
      chownSync(lock(), attacker.uid, user.gid);
      chmodSync(lock(), 0o660);
      const result = await changer.sd("load", 1, 0);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(
        `${lock()} is owned by uid ${attacker.uid}`,
      );
      expect(result.stderr).toContain(`rm ${lock()}`);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      chownSync(lock(), user.uid, user.gid);
      chmodSync(lock(), 0o600);
      expectSuccess(await changer.sd("load", 1, 0));
    });
  },
);
