// The seed's bug on the changer's side: a magazine whose ext4 has no space left for the run-as
// user, only root's reserved blocks (df as root still shows them free). Loading a volume no job
// wrote to (it can only be wanted for writing) fails naming the reserve and `tune2fs -m 0`, where
// the storage daemon would only have met ENOSPC; a volume that holds data still loads (a restore
// reads it). Real: ext4 with a 5% reserve on a loop device, filled by the run-as user.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { TestChanger } from "../helpers/changer.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import { tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser } from "../helpers/users.ts";

const SUITE = "a magazine full for the run-as user, root's reserve left";

describe.skipIf(skipUnless(["loop", "tool:useradd", "tool:setpriv"], SUITE))(
  SUITE,
  () => {
    let dir = "";
    let disk: LoopFs;
    let changer: TestChanger;
    let volumes: string[] = [];

    beforeAll(async () => {
      const user = ensureTestUser();
      dir = makeTempDir("reserved-full");
      const bay = join(dir, "bay");
      tool(["mkdir", "--", bay]);
      disk = createLoopFs(dir, "disk", { sizeMiB: 32, reservedPercent: 5 });
      disk.mount(bay);
      changer = new TestChanger(dir, {
        name: "rf1",
        drives: 1,
        bays: [{ path: bay }],
        user: user.name,
        group: user.name,
      });
      volumes = await changer.init(1, 2);
      // Volume 1 holds a job's data; then the run-as user fills what it may use.
      const written = join(bay, volumes[0] as string);
      writeFileSync(written, Buffer.alloc(256 * 1024, 7));
      chownSync(written, user.uid, user.gid);
      tool(
        [
          "setpriv",
          `--reuid=${user.uid}`,
          `--regid=${user.gid}`,
          "--clear-groups",
          "dd",
          "if=/dev/zero",
          `of=${join(bay, "filler")}`,
          "bs=4096",
        ],
        { okCodes: [0, 1] },
      );
      const s = disk.statfs();
      expect(s.bavail * s.bsize).toBeLessThan(64 * 1024);
      expect(s.bfree).toBeGreaterThan(0);
    });

    afterAll(() => {
      destroyAllLoopFs();
      if (dir) removeTempDir(dir);
    });

    test("a volume never written: the load fails naming root's reserve and tune2fs -m 0", async () => {
      const result = await changer.sd("load", 2, 0);
      expect(result.exitCode).not.toBe(0);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(
        new RegExp(
          `^magchanger: cannot load slot 2 \\(${volumes[1]}, never written\\) from magazine 1 at \\S+: its filesystem has [\\d.]+ K?i?B left for magtest: the last [\\d.]+ [KM]iB are reserved for root, which magtest cannot use; run \`tune2fs -m 0 ${disk.device}\` \\(or free space, or attach another magazine\\)\\n$`,
        ),
      );
      expect((await changer.sd("loaded", 0, 0)).stdout).toBe("0\n");
    });

    test("a volume that holds data still loads: a restore reads it", async () => {
      const result = await changer.sd("load", 1, 0);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect((await changer.sd("loaded", 0, 0)).stdout).toBe("1\n");
    });
  },
);
