// The identity entry `.magchanger-UUID` must be a real directory on the disk (DESIGN properties 3
// and 9, item 6 of the root-paths issue): drive links resolve through it
// (MOUNT/.magchanger-UUID/../VOLUME), so an identity that is a link to a copy elsewhere would
// lead a drive off the disk. The disk's unprivileged owner plants the link; the changer runs as
// root and must treat the bay as absent, refuse the load, and let nothing be opened through the
// drive link.
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  test,
} from "bun:test";
import { closeSync, constants, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { listOutput } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import { HostileDisk, QUICK } from "../helpers/hostile-disk.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const skipReason = skipUnless(
  ["loop", "tool:useradd", "tool:setpriv"],
  "identity-link tests",
)
  ? "skip"
  : undefined;

describe.skipIf(skipReason !== undefined)(
  "an identity entry that is a link off the disk (ext4 loop disk, root runs)",
  () => {
    let h: HostileDisk | undefined;
    const d = () => h as HostileDisk;
    const openForWrite = (path: string, flags = constants.O_WRONLY) =>
      closeSync(openSync(path, flags, 0o644));

    beforeAll(async () => {
      h = await HostileDisk.create("disk-idlink");
    });
    afterEach(() => d().restore());
    afterAll(() => HostileDisk.destroy(h));

    test("the bay is absent; a load fails and nothing can be created through the drive link", async () => {
      const copy = d().linkIdentityOffDisk();
      expectSuccess(await d().changer.sd("list", 0, 0), listOutput(2, {}));
      const load = await d().changer.sd("load", 1, 0, QUICK);
      expect(load.exitCode).not.toBe(0);
      expect(() =>
        openForWrite(
          d().changer.driveLink(0),
          constants.O_WRONLY | constants.O_CREAT,
        ),
      ).toThrow();
      expect(readdirSync(d().outside)).toEqual(["id"]);
      expect(readdirSync(copy)).toEqual(["magazine.json"]);
      expect((await d().magazineList()).stdout).toMatch(
        /^bay 1 .*: absent \(.*not a directory/m,
      );
    });

    test("with a volume waiting off the disk, a load after a cached list still refuses", async () => {
      expectSuccess(await d().changer.sd("list", 0, 0), d().fullList());
      d().linkIdentityOffDisk();
      // MOUNT/.magchanger-UUID/../VOLUME would now be outside/VOLUME.
      const volume = d().vols[1] as string;
      d().attacker.run(["touch", "--", join(d().outside, volume)]);
      const load = await d().changer.sd("load", 2, 0, QUICK);
      expect(load.exitCode).not.toBe(0);
      expect(() => openForWrite(d().changer.driveLink(0))).toThrow();
      expect(readdirSync(d().outside).sort()).toEqual(["id", volume].sort());
    });
  },
);
