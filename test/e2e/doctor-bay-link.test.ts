// doctor runs as root and prints fixes an admin pastes as root: the seed's `chown USER:GROUP BAY`
// must never be advised for a bay path that is a symbolic link (chown follows it to wherever it
// leads, e.g. a link the run-as user planted in a directory of its own). A real bay keeps the
// plain advice.
import { afterAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { TestChanger } from "../helpers/changer.ts";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser } from "../helpers/users.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const skipReason = skipUnless(["root", "tool:useradd"], "doctor bay-link tests")
  ? "skip"
  : undefined;

describe.skipIf(skipReason !== undefined)(
  "doctor's advice for a bay the run-as user cannot write",
  () => {
    const dir = skipReason ? "" : makeTempDir("doctor-bay-link");
    afterAll(() => {
      if (dir) removeTempDir(dir);
    });

    const doctorFix = async (bayPath: string, realBay: string) => {
      const user = ensureTestUser();
      const changer = new TestChanger(dir, {
        name: `dl${bayPath === realBay ? "real" : "link"}`,
        user: user.name,
        group: user.group,
        bays: [{ path: bayPath, allowUnmounted: true }],
      });
      await changer.init(1, 1);
      // Root's again, so the run-as user cannot write it and doctor advises a fix.
      chownSync(realBay, 0, 0);
      const result = await runBinary(
        ["doctor", "-c", changer.conf, "--prefix", join(dir, "prefix")],
        { timeoutMs: 30_000 },
      );
      const lines = result.stdout.split("\n");
      const at = lines.findIndex((l) =>
        /^FAIL {2}bay 1: .*cannot write/.test(l),
      );
      expect(at).toBeGreaterThanOrEqual(0);
      return lines[at + 1] ?? "";
    };

    test("a bay path that is a link: no chown of the link, advice to configure the real directory", async () => {
      mkdirSync(join(dir, "prefix"), { recursive: true });
      const real = join(dir, "real-bay");
      mkdirSync(real);
      const link = join(dir, "bay-link");
      symlinkSync(real, link);
      const fix = await doctorFix(link, real);
      expect(fix).not.toMatch(/fix: chown /);
      expect(fix).toContain(`${link} is a symbolic link`);
    });

    test("a real bay keeps the seed's chown advice", async () => {
      mkdirSync(join(dir, "prefix"), { recursive: true });
      const real = join(dir, "plain-bay");
      mkdirSync(real);
      const fix = await doctorFix(real, real);
      expect(fix).toMatch(/fix: chown magtest:\S+ .*plain-bay/);
    });
  },
);
