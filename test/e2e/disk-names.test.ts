// File names on a disk are its owner's text (DESIGN property 9, item 8 of the root-paths issue):
// ESC, BEL, CR, newline or a C1 control in a name never make it a volume, and never reach a
// terminal or the log raw, so a name can neither drive the terminal nor forge a whole line of
// `magazine list` or doctor. The disk's unprivileged owner plants the names; root runs.
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  test,
} from "bun:test";
import { join } from "node:path";
import { listOutput } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import {
  expectPrintable,
  HostileDisk,
  QUICK,
} from "../helpers/hostile-disk.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const skipReason = skipUnless(
  ["loop", "tool:useradd", "tool:setpriv"],
  "disk-names tests",
)
  ? "skip"
  : undefined;

describe.skipIf(skipReason !== undefined)(
  "file names with control characters on a disk (ext4 loop disk, root runs)",
  () => {
    let h: HostileDisk | undefined;
    const d = () => h as HostileDisk;

    beforeAll(async () => {
      h = await HostileDisk.create("disk-names");
    });
    afterEach(() => d().restore());
    afterAll(() => HostileDisk.destroy(h));

    test("names with ESC, BEL and newlines are never volumes and never printed raw", async () => {
      for (const name of [
        "planted\u001b[2J\u001b]0;owned\u0007",
        "planted\nFORGED bay 9: magazine 9",
        "planted\rFORGED",
        "planted_\u009b31m",
      ])
        d().attacker.run(["touch", "--", join(d().bay, name)]);
      const [v1, v2] = d().vols;
      expectSuccess(await d().changer.sd("list", 0, 0, QUICK), d().fullList());
      expectSuccess(
        await d().changer.sd("listall", 0, 0, QUICK),
        `D:0:E\nS:1:F:${v1}\nS:2:F:${v2}\n`,
      );
      const listed = await d().magazineList();
      expect(listed.stdout).toContain("4 entries are not volumes");
      expect(listed.stdout).toContain("\\x1b[2J");
      const json = await d().magazineList(true);
      const checked = await d().doctor();
      expectPrintable(
        listed.stdout,
        listed.stderr,
        json.stdout,
        checked.stdout,
        checked.stderr,
        d().log(),
      );
      expect(json.stdout).not.toContain("\u009b");
      expect(d().log()).toContain("ignoring");
    });

    test("a .magchanger- entry named with control characters is no identity (not .magchanger-<uuid>): the bay stays present, output printable", async () => {
      d().attacker.run([
        "mkdir",
        "--",
        join(d().bay, ".magchanger-\u001b[31mred\nFORGED line"),
      ]);
      expectSuccess(await d().changer.sd("list", 0, 0, QUICK), d().fullList());
      const listed = await d().magazineList();
      expect(listed.stdout).toMatch(/^bay 1 .*: magazine 1 \(/);
      const checked = await d().doctor();
      expectPrintable(listed.stdout, checked.stdout, checked.stderr, d().log());
    });
  },
);
