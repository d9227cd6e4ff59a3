// Something other than a symlink at WORK_DIR/driveN (issue 10, item 9): unload, load and a
// list that repairs links refuse with exit 6 naming the path *before* writing any state, so
// every file of the work dir is byte-identical after the failure (drives.json was once
// rewritten first and the error then said "previous state unchanged", exit 5).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { TestChanger } from "../helpers/changer.ts";
import { expectFailure } from "../helpers/expect.ts";
import { snapshotDir } from "../fault/harness.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("drive-link-path");
afterAll(() => removeTempDir(dir));
let n = 0;
let changer: TestChanger;

beforeEach(async () => {
  n += 1;
  const bay = join(dir, `bay${n}`);
  mkdirSync(bay);
  changer = new TestChanger(dir, {
    name: `dl${n}`,
    drives: 2,
    bays: [{ path: bay, allowUnmounted: true }],
  });
  await changer.init(1, 4);
  expect((await changer.sd("load", 2, 1)).exitCode).toBe(0);
});

const plants: [string, (path: string) => void][] = [
  ["a directory", (p) => (unlinkSync(p), mkdirSync(p))],
  ["a regular file", (p) => (unlinkSync(p), writeFileSync(p, "data\n"))],
];

describe("a drive path that is not a symlink", () => {
  for (const [what, plant] of plants) {
    test(`unload of drive 1 with ${what} at drive1: exit 6 naming it, nothing written`, async () => {
      const link = changer.driveLink(1);
      plant(link);
      const before = snapshotDir(changer.workDir);
      expectFailure(
        await changer.sd("unload", 2, 1),
        6,
        new RegExp(`^magchanger: ${link} is ${what}`),
      );
      expect(snapshotDir(changer.workDir)).toEqual(before);
    });

    test(`load into drive 1 with ${what} at drive1: exit 6, nothing written`, async () => {
      const link = changer.driveLink(1);
      plant(link);
      const before = snapshotDir(changer.workDir);
      expectFailure(
        await changer.sd("load", 3, 1),
        6,
        new RegExp(`^magchanger: ${link} is ${what}`),
      );
      expect(snapshotDir(changer.workDir)).toEqual(before);
    });

    test(`load into drive 0 with ${what} at drive1 and drive0's link stale: exit 6, drive0 not touched either`, async () => {
      const link = changer.driveLink(1);
      plant(link);
      const drive0 = changer.driveLink(0);
      rmSync(drive0);
      symlinkSync("/nonexistent/stale", drive0);
      const before = snapshotDir(changer.workDir);
      expectFailure(
        await changer.sd("load", 3, 0),
        6,
        new RegExp(`^magchanger: ${link} is ${what}`),
      );
      expect(snapshotDir(changer.workDir)).toEqual(before);
    });
  }
});
