// A bay the run-as user cannot enter (a disk mounted there by hand as root, its top directory
// 0700): `load` said "volume X is on magazine 1, which is not attached", which is false and sends
// the operator looking for a disk that is in the bay. Real: ext4 on a loop device, the changer
// run as an unprivileged user.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { TestChanger } from "../helpers/changer.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser } from "../helpers/users.ts";

const SUITE = "a bay the run-as user cannot read";

describe.skipIf(skipUnless(["loop", "tool:useradd"], SUITE))(SUITE, () => {
  let dir = "";
  let bay = "";
  let disk: LoopFs;
  let changer: TestChanger;

  beforeAll(async () => {
    const user = ensureTestUser();
    dir = makeTempDir("unreadable-bay");
    bay = join(dir, "bay");
    mkdirSync(bay);
    disk = createLoopFs(dir, "disk");
    disk.mount(bay);
    changer = new TestChanger(dir, {
      name: "ub1",
      drives: 1,
      bays: [{ path: bay }],
      user: user.name,
      group: user.name,
    });
    await changer.init(1, 2);
    // As if mounted again by hand as root: the disk's top directory is root's, 0700.
    chownSync(bay, 0, 0);
    chmodSync(bay, 0o700);
  });

  afterAll(() => {
    destroyAllLoopFs();
    if (dir) removeTempDir(dir);
  });

  test("load says the run-as user cannot enter the bay and how to let it, not 'not attached'", async () => {
    const result = await changer.sd("load", 1, 0);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(
      `volume ub1_0001_0001 is on magazine 1, which may be in a bay magtest cannot look into (cannot read ${bay}: EACCES); let magtest:magtest enter the bay`,
    );
    expect(result.stderr).not.toContain("which is not attached");
    expect(result.stdout).toBe("");
  });
});
