// `magazine list` from the run-as user's point of view: which disk is where, its slots and space,
// and the seed's trap (blocks reserved for root) with the exact fix; never that advice for a
// directory magazine on a shared filesystem (root's reserve there is the system's business).
import { skipUnless } from "../helpers/capabilities.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { TestChanger } from "../helpers/changer.ts";
import { createLoopFs, destroyAllLoopFs } from "../helpers/loop.ts";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser } from "../helpers/users.ts";

const dir = makeTempDir("magazine-list");
afterAll(() => {
  destroyAllLoopFs();
  removeTempDir(dir);
});

const SUITE = "magazine list";

describe.skipIf(skipUnless(["loop"], SUITE))(SUITE, () => {
  test("a disk with root-reserved blocks, a directory bay and an empty mount point", async () => {
    const user = ensureTestUser();
    const disk = createLoopFs(dir, "ml-disk", {
      sizeMiB: 32,
      owner: { uid: user.uid, gid: user.gid },
    });
    const bay1 = join(dir, "bay1");
    const bay2 = join(dir, "bay2");
    const bay3 = join(dir, "bay3");
    for (const bay of [bay2, bay3]) mkdirSync(bay);
    chownSync(bay2, user.uid, user.gid);
    disk.mount(bay1);
    const changer = new TestChanger(dir, {
      name: "ml",
      user: user.name,
      group: user.group,
      bays: [
        { path: bay1 },
        { path: bay2, allowUnmounted: true },
        { path: bay3 },
      ],
    });
    await changer.init(1, 3);
    await changer.init(2, 2);
    const result = await runBinary(["magazine", "list", "-c", changer.conf]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(
      new RegExp(
        `^bay 1 ${bay1}: magazine 1 \\(label ml-disk, UUID [0-9a-f-]{36}\\), 3 volumes, slots 1\\.\\.3$`,
      ),
    );
    expect(lines[1]).toBe(`  device ${disk.device} (ext4) mounted at ${bay1}`);
    expect(lines[2]).toMatch(
      /^ {2}space for the run-as user: [\d.]+ MiB of [\d.]+ MiB$/,
    );
    expect(lines[3]).toMatch(
      new RegExp(
        `^ {2}warning: [\\d.]+ MiB are reserved for root, which magtest cannot use; run \`tune2fs -m 0 ${disk.device}\`$`,
      ),
    );
    // init recorded when each disk arrived (WORK_DIR/magazines.json): the block's last line,
    // with how long ago.
    expect(lines[4]).toMatch(
      /^ {2}attached since \d{4}-\d\d-\d\dT[\d:.]+Z \(less than a day\)$/,
    );
    expect(lines[5]).toMatch(
      new RegExp(
        `^bay 2 ${bay2}: magazine 2 \\(UUID [0-9a-f-]{36}\\), 2 volumes, slots 4\\.\\.5$`,
      ),
    );
    const bay2Block = lines.slice(
      6,
      lines.findIndex((l) => l.startsWith("bay 3")),
    );
    expect(bay2Block.join("\n")).not.toContain("tune2fs");
    expect(lines.find((l) => l.startsWith("bay 3"))).toBe(
      `bay 3 ${bay3}: absent (nothing is mounted at ${bay3} (an empty mount point is never used))`,
    );

    const json = JSON.parse(
      (await runBinary(["magazine", "list", "-c", changer.conf, "--json"]))
        .stdout,
    );
    expect(json).toHaveLength(3);
    expect(json[0]).toMatchObject({
      bay: 1,
      present: true,
      magazine: 1,
      volumes: 3,
      device: disk.device,
      slots: { first: 1, last: 3, count: 3 },
    });
    expect(json[0].space.reservedBytes).toBeGreaterThan(0);
    expect(json[2]).toMatchObject({ bay: 3, present: false });

    disk.unmount();
    const fixed = createLoopFs(dir, "ml-fixed", {
      sizeMiB: 32,
      reservedPercent: 0,
      owner: { uid: user.uid, gid: user.gid },
    });
    fixed.mount(bay3);
    const third = new TestChanger(dir, {
      name: "ml",
      user: user.name,
      group: user.group,
      bays: [{ path: bay3 }],
    });
    await third.init(1, 1);
    const clean = await runBinary(["magazine", "list", "-c", third.conf]);
    expect(clean.stdout).not.toContain("warning");
  });
});
