// What a plugged-in disk holds is its owner's, not root's (DESIGN property 9, item 5 of the
// root-paths issue): magazine.json planted as a FIFO, a link to /dev/zero, a link to a root-only
// file or a huge file. The changer (as root), `magazine list` and `doctor` must finish within
// seconds with the bay absent and a printable reason, never hang the lock holder (so a second
// call is not "busy") and never print what they must not have read.
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  test,
} from "bun:test";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { listOutput } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import {
  expectQuick,
  HostileDisk,
  QUICK,
  SECRET,
} from "../helpers/hostile-disk.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const skipReason = skipUnless(
  ["loop", "tool:useradd", "tool:setpriv"],
  "disk-content tests",
)
  ? "skip"
  : undefined;

describe.skipIf(skipReason !== undefined)(
  "magazine.json planted by the disk's unprivileged owner (ext4 loop disk, root runs)",
  () => {
    let h: HostileDisk | undefined;
    const d = () => h as HostileDisk;
    const empty = listOutput(2, {});

    beforeAll(async () => {
      h = await HostileDisk.create("disk-content");
    });
    afterEach(() => d().restore());
    afterAll(() => HostileDisk.destroy(h));

    test("the legitimate magazine is present, loads and is listed", async () => {
      expectSuccess(await d().changer.sd("list", 0, 0), d().fullList());
      expectSuccess(await d().changer.sd("load", 1, 0));
      closeSync(openSync(d().changer.driveLink(0), "r+"));
      expect((await d().magazineList()).stdout).toMatch(
        /^bay 1 .*: magazine 1 \(/,
      );
    });

    test("a FIFO as magazine.json: list finishes with the bay absent, a concurrent list is not busy, root doctor finishes", async () => {
      d().plantIdentity((dir) =>
        d().attacker.run(["mkfifo", "--", join(dir, "magazine.json")]),
      );
      const both = await Promise.all([
        d().changer.sd("list", 0, 0, QUICK),
        d().changer.sd("list", 0, 0, QUICK),
      ]);
      for (const result of both) {
        expectQuick(result);
        expectSuccess(result, empty);
      }
      const listed = await d().magazineList();
      expectQuick(listed);
      expect(listed.stdout).toMatch(
        /^bay 1 .*: absent \(.*magazine\.json.*FIFO.*\)$/m,
      );
      const checked = await d().doctor();
      expectQuick(checked);
      expect(checked.stdout).toMatch(/FAIL {2}bay 1: .*magazine absent/);
      expect(d().log()).toMatch(/absent: .*magazine\.json.*FIFO/);
    });

    test("a link to /dev/zero as magazine.json is never followed", async () => {
      d().plantIdentity((dir) =>
        d().attacker.run(["ln", "-s", "/dev/zero", join(dir, "magazine.json")]),
      );
      // Short: the code before this fix read /dev/zero until memory ran out.
      const result = await d().changer.sd("list", 0, 0, { timeoutMs: 5_000 });
      expectQuick(result);
      expectSuccess(result, empty);
      expect((await d().magazineList()).stdout).toMatch(
        /absent \(.*symbolic link.*\)$/m,
      );
    });

    test("a huge magazine.json is refused by its size, not read", async () => {
      d().plantIdentity((dir) =>
        d().attacker.run([
          "truncate",
          "-s",
          "200M",
          join(dir, "magazine.json"),
        ]),
      );
      const result = await d().changer.sd("list", 0, 0, QUICK);
      expectQuick(result);
      expectSuccess(result, empty);
      expect((await d().magazineList()).stdout).toMatch(
        /absent \(.*magazine\.json.*bytes.*\)$/m,
      );
    });

    test("a link to a root-only file as magazine.json never shows its token", async () => {
      d().plantIdentity((dir) =>
        d().attacker.run([
          "ln",
          "-s",
          d().secretFile,
          join(dir, "magazine.json"),
        ]),
      );
      const outputs = [
        await d().changer.sd("list", 0, 0, QUICK),
        await d().changer.sd("listall", 0, 0, QUICK),
        await d().magazineList(),
        await d().magazineList(true),
        await d().doctor(),
        await d().doctor(true),
      ];
      for (const result of outputs) {
        expectQuick(result);
        expect(result.stdout + result.stderr).not.toContain(SECRET);
      }
      expect(outputs[2]?.stdout).toMatch(/absent \(.*symbolic link.*\)$/m);
      expect(d().log()).not.toContain(SECRET);
    });
  },
);
