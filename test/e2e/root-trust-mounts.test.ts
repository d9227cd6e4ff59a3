// Issue 9, item 9: unlock (as root, outside udev) lazily unmounts what is mounted from a stale
// mapping before closing it. Mounts are matched by the mapper device's major:minor, never by the
// source string: anyone may mount a FUSE filesystem with fsname=/dev/mapper/NAME on a path of
// theirs, and root must not `umount -l` it. No FUSE filesystem is installed here, so a tmpfs
// mounted with the source /dev/mapper/NAME stands in for it: in /proc/self/mountinfo it looks the
// same (an anonymous device, major 0, and a source string of the mounter's choice). The mapping is
// faked (no device-mapper in this kernel, see test/unlock/fakes.ts); the legitimate mount is a
// real ext4 on a loop device whose node is made at /dev/mapper/NAME, as a dm node would be.
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  test,
} from "bun:test";
import { chownSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import { createLoopFs, type LoopFs } from "../helpers/loop.ts";
import { BASE_ENV, runBinary, tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  createFakeTools,
  createLuksDisk,
  type FakeTools,
  type LoopDisk,
  writeConfig,
  writeKeyFile,
} from "../unlock/fakes.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const SKIP = skipUnless(
  ["loop", "luks", "tool:useradd", "tool:setpriv"],
  "root-trust-mounts tests",
)
  ? "skip"
  : undefined;

function isMounted(dir: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === dir);
}

describe.skipIf(SKIP !== undefined)(
  "unlock unmounts only the mapper's own device",
  () => {
    let root = "";
    let disk: LoopDisk | undefined;
    let attacker: Attacker;
    let fakes: FakeTools;
    let n = 0;
    const mounts: string[] = [];
    const nodes: string[] = [];
    const loops: LoopFs[] = [];
    const mapper = () => `mgt${process.pid}x${n}`;

    beforeAll(() => {
      attacker = createAttacker();
      root = makeTempDir("root-trust-mounts");
      const keyFile = writeKeyFile(join(root, "luks.key"), "trust-mounts-key");
      disk = createLuksDisk(root, "disk", keyFile);
    });

    afterEach(() => {
      for (const dir of mounts.splice(0))
        if (isMounted(dir))
          tool(["umount", "-l", "--", dir], { okCodes: [0, 32] });
      for (const node of nodes.splice(0)) rmSync(node, { force: true });
      for (const fs of loops.splice(0)) fs.destroy();
    });

    afterAll(() => {
      disk?.detach();
      attacker?.remove();
      if (root) removeTempDir(root);
    });

    /** A case of its own: config, fake tools, and a stale mapping (its disk is gone). */
    function setUp(): { env: Record<string, string>; dir: string } {
      n += 1;
      const dir = join(root, `case${n}`);
      const confDir = join(dir, "etc");
      mkdirSync(confDir, { recursive: true });
      fakes = createFakeTools(join(dir, "tools"));
      writeConfig(join(confDir, "usb.toml"), {
        dir,
        name: "usb",
        mapper: mapper(),
        keyFile: join(root, "luks.key"),
        tools: fakes,
      });
      fakes.setMapping(mapper(), "(null)");
      fakes.realUmount();
      // The fake cryptsetup shows its mapping in that sysfs, as the kernel would (fakes.ts).
      const env = {
        ...BASE_ENV,
        MAGCHANGER_CONFIG_DIR: confDir,
        MAGCHANGER_SYSFS_ROOT: join(fakes.dir, "sys"),
      };
      return { env, dir };
    }

    /** The attacker's directory with a major-0 mount whose source names the mapper. */
    function forgedMount(dir: string): string {
      const theirs = join(dir, "theirs");
      mkdirSync(theirs);
      chownSync(theirs, attacker.uid, attacker.gid);
      const at = join(theirs, "mnt");
      attacker.run(["mkdir", "--", at]);
      tool([
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=1m",
        "--",
        `/dev/mapper/${mapper()}`,
        at,
      ]);
      mounts.push(at);
      return at;
    }

    /** A real block device node at /dev/mapper/NAME, and its filesystem mounted at dir/real. */
    function realMapperMount(dir: string): string {
      const fs = createLoopFs(dir, "real");
      loops.push(fs);
      const at = join(dir, "real");
      fs.mount(at);
      const rdev = statSync(fs.device).rdev;
      const node = `/dev/mapper/${mapper()}`;
      tool([
        "mknod",
        "--",
        node,
        "b",
        String(Math.floor(rdev / 256) & 0xfff),
        String(rdev & 0xff),
      ]);
      nodes.push(node);
      fakes.setBusy(mapper(), at);
      return at;
    }

    const umounts = () => fakes.calls().filter((c) => c[0] === "umount");

    test("a major-0 mount whose source names the mapper is never unmounted (no mapper node)", async () => {
      const { env, dir } = setUp();
      const theirs = forgedMount(dir);
      const result = await runBinary(["unlock", disk!.device, mapper()], {
        env,
      });
      expect(result.exitCode).toBe(0);
      expect(umounts()).toEqual([]);
      expect(isMounted(theirs)).toBe(true);
      expect(fakes.mapping(mapper())).toBe(disk!.device);
    });

    test("with the mapper's real mount beside it: only the mapper's device is unmounted", async () => {
      const { env, dir } = setUp();
      const theirs = forgedMount(dir);
      const real = realMapperMount(dir);
      const result = await runBinary(["unlock", disk!.device, mapper()], {
        env,
      });
      expect(result.exitCode).toBe(0);
      expect(umounts()).toEqual([["umount", "-l", "--", real]]);
      expect(isMounted(real)).toBe(false);
      expect(isMounted(theirs)).toBe(true);
      expect(result.stderr).toContain(
        `magchanger: lazily unmounted ${real} (was /dev/mapper/${mapper()})`,
      );
    });
  },
);
