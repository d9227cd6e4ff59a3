// Root writes that follow links, item 3 (issue: root paths never follow): `magazine init` and
// INITMAG as root hand the bay (and the first work/log dirs) to the run-as user. A bay or a
// work dir's parent planted as a link by that user in a directory it owns is refused, and
// nothing the link points to is chowned or written; a real bay still works.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary } from "../helpers/run.ts";
import { expectUntouched, lineCount, rootCases } from "../helpers/root-case.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const SKIP = skipUnless(
  ["root", "tool:useradd", "tool:setpriv"],
  "root-bay e2e",
)
  ? "skip"
  : undefined;

const cases = rootCases("root-bay");
beforeAll(() => {
  if (!SKIP) cases.start();
});
afterAll(() => cases.stop());

describe.skipIf(SKIP !== undefined)(
  "item 3: magazine init and INITMAG never chown or write into a planted bay link",
  () => {
    /** A changer whose bay (and optionally work dir) sits in a run-as user's directory. */
    const initCase = () => {
      const c = cases.newCase();
      const parent = cases.attackerDir(join(c.dir, "srv"));
      const bay = join(parent, "bay");
      const conf = join(c.dir, "c.toml");
      writeFileSync(
        conf,
        `name = "m${cases.number()}"\nwork_dir = "${join(parent, "state", "work")}"\nlog_file = "${join(parent, "log", "m.log")}"\n${cases.runAsLines()}[[magazine]]\npath = "${bay}"\nallow_unmounted = true\n`,
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
      cases.plantLink(c.victim, c.bay);
      const result = await c.init();
      expectUntouched(c);
      expect(result.exitCode).not.toBe(0);
      expect(lineCount(result.stderr)).toBe(1);
      expect(result.stderr).toContain(c.bay);
      expect(result.stderr).toContain("symbolic link");
    });

    test("INITMAG: a bay that is a link in the run-as user's directory is refused, its target untouched", async () => {
      const c = initCase();
      cases.plantLink(c.victim, c.bay);
      const result = await c.initmag();
      expectUntouched(c);
      expect(result.exitCode).not.toBe(0);
      expect(lineCount(result.stderr)).toBe(1);
      expect(result.stderr).toContain("symbolic link");
    });

    test("magazine init: a work dir reached through a planted link is not created or chowned", async () => {
      const c = initCase();
      mkdirSync(c.bay);
      cases.plantLink(c.victim, join(c.parent, "state"));
      const result = await c.init();
      expectUntouched(c);
      expect(result.exitCode).not.toBe(0);
      expect(lineCount(result.stderr)).toBe(1);
      expect(result.stderr).toContain(join(c.parent, "state"));
    });

    test("legitimate: a real bay is handed to the run-as user and gets its identity and volumes", async () => {
      const c = initCase();
      mkdirSync(c.bay);
      const result = await c.init();
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(lstatSync(c.bay)).toMatchObject({
        uid: cases.attacker().uid,
        gid: cases.attacker().gid,
      });
      expect(lstatSync(join(c.parent, "state", "work"))).toMatchObject({
        uid: cases.attacker().uid,
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
      expect(lstatSync(c.bay)).toMatchObject({ uid: cases.attacker().uid });
    });
  },
);
