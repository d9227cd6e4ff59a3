// doctor as root never follows a work dir that is a link others planted: it would list (and
// print) the names of whatever root's files lie where it leads (found by review).
import { afterAll, describe, expect, test } from "bun:test";
import { lchownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkWorkDir } from "../../src/doctor/workdir.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("workdir-link");
afterAll(() => removeTempDir(dir));

describe.skipIf(skipUnless(["root"], "doctor work dir link (lchown)"))(
  "doctor's work dir check",
  () => {
    test("a work dir that is a link someone else planted FAILs naming it, listing nothing behind it", () => {
      mkdirSync(join(dir, "rootonly"), { mode: 0o700 });
      writeFileSync(join(dir, "rootonly", "secret-name-1"), "x");
      const work = join(dir, "work");
      symlinkSync(join(dir, "rootonly"), work);
      lchownSync(work, 54321, 54321);
      const ctx = {
        config: { work_dir: work, user: "bacula", group: "tape" },
        who: { name: "bacula", uid: 54321, gid: 54321, groups: [54321] },
        configFile: "/etc/magchanger/x.toml",
      } as unknown as Parameters<typeof checkWorkDir>[0];
      const checks = checkWorkDir(ctx);
      const text = JSON.stringify(checks);
      expect(text).toContain("a symbolic link others may have planted");
      expect(text).not.toContain("secret-name-1");
    });
  },
);
