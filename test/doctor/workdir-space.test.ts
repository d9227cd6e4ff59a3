// doctor's work dir space check counts root's reserve the way the bay check and `magazine list`
// do (filesystemSpace): a filesystem made with -m 0 reserves nothing for root, though statfs
// still shows ext4's own delayed-allocation reserve as bfree - bavail.
import { afterAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { checkWorkDir } from "../../src/doctor/workdir.ts";
import { readMountInfo } from "../../src/system/mounts.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { createLoopFs, destroyAllLoopFs } from "../helpers/loop.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const SUITE = "doctor work dir space (a nearly full ext4 on a loop device)";

describe.skipIf(skipUnless(["root", "loop"], SUITE))(SUITE, () => {
  const dir = makeTempDir("workdir-space");
  afterAll(() => {
    destroyAllLoopFs();
    removeTempDir(dir);
  });

  test("a nearly full filesystem made with -m 0 FAILs on space without claiming blocks reserved for root", () => {
    const fs = createLoopFs(dir, "wdspace", { reservedPercent: 0 });
    const at = join(dir, "wdspace");
    fs.mount(at);
    const work = join(at, "work");
    mkdirSync(work);
    chownSync(work, 54321, 54321);
    const { bsize, bavail } = fs.statfs();
    const fd = openSync(join(at, "fill"), "w");
    const chunk = Buffer.alloc(1 << 20, 0x55);
    for (let left = (bavail - 64) * bsize; left > 0;)
      left -= writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    fsyncSync(fd);
    closeSync(fd);
    const after = fs.statfs();
    // The premise: statfs shows a gap (ext4's own reserve) though nothing is reserved for root.
    expect(after.bfree).toBeGreaterThan(after.bavail);
    const ctx = {
      config: { work_dir: work, user: "bacula", group: "tape" },
      who: { name: "bacula", uid: 54321, gids: [54321] },
      configFile: "/etc/magchanger/x.toml",
      sys: { mounts: readMountInfo },
    } as unknown as Parameters<typeof checkWorkDir>[0];
    const checks = checkWorkDir(ctx);
    const space = checks.find((c) => c.name === "work dir space");
    expect(space?.status).toBe("fail");
    expect(space?.message).toContain(
      `free for bacula on the filesystem of ${work}`,
    );
    expect(space?.message).not.toContain("reserved for root");
  });
});
