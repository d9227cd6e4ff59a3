// DESIGN property 4 and the seed's bug for real: the work dir on an ext4 filesystem with the
// default 5% reserved for root, filled until only that reserve is left. The changer is started
// as root and drops to an unprivileged user (as from udev or a root shell), so it gets ENOSPC
// where `df` as root still shows space. vchanger exited 0 here and left an empty state file.
import { skipUnless } from "../helpers/capabilities.ts";
import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  test,
} from "bun:test";
import {
  chmodSync,
  chownSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { formatBytes } from "../../src/text.ts";
import { slotsOf, listOutput, TestChanger } from "../helpers/changer.ts";
import { expectFailure, expectSuccess } from "../helpers/expect.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import { snapshotDir } from "../helpers/state.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser, type TestUser } from "../helpers/users.ts";

const dirs: string[] = [];
afterAll(() => {
  destroyAllLoopFs();
  for (const dir of dirs) removeTempDir(dir);
});

/** The state a failed command must leave as it was: the files' bytes and the drive links. */
function stateBytes(changer: TestChanger): Record<string, string> {
  const state: Record<string, string> = {};
  for (const name of readdirSync(changer.workDir).sort()) {
    const path = join(changer.workDir, name);
    state[name] =
      name.startsWith("drive") && name !== "drives.json"
        ? `-> ${readlinkSync(path)}`
        : readFileSync(path, "utf8");
  }
  return state;
}

/** Appends bytes as root, synced so statfs counts them (ext4 delays allocation). */
function appendBytes(path: string, bytes: number): void {
  const fd = openSync(path, "a");
  const chunk = Buffer.alloc(Math.min(bytes, 1 << 20), 0x55);
  let left = bytes;
  while (left > 0)
    left -= writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  fsyncSync(fd);
  closeSync(fd);
}

/** As root, fills the filesystem until an unprivileged user has `leave` blocks left. */
function fillUntilOnlyReserveLeft(fs: LoopFs, leave = 0): void {
  const file = join(fs.mountPoint as string, "fill");
  const { bsize, bavail } = fs.statfs();
  if (bavail > leave + 64) appendBytes(file, (bavail - leave - 64) * bsize);
  for (let i = 0; i < 1000 && fs.statfs().bavail > leave; i++)
    appendBytes(file, bsize);
  const after = fs.statfs();
  expect({
    bavail: after.bavail,
    reserveLeft: after.bfree > after.bavail,
  }).toEqual({ bavail: leave, reserveLeft: true });
}

function reservedHint(fs: LoopFs, uid: number): string {
  const { bsize, bfree, bavail } = fs.statfs();
  const reserved = bfree - bavail;
  return `only the ${reserved} blocks (${formatBytes(reserved * bsize)}) reserved for root are free on this filesystem, which uid ${uid} cannot use: free space or run \`tune2fs -m 0 DEVICE\``;
}

const SUITE =
  "a work dir whose filesystem is full for the run-as user (the seed's bug)";

describe.skipIf(skipUnless(["loop"], SUITE))(SUITE, () => {
  let user: TestUser;
  let workFs: LoopFs;
  let changer: TestChanger;
  let vols: string[] = [];

  beforeAll(async () => {
    user = ensureTestUser();
    const dir = makeTempDir("enospc");
    dirs.push(dir);
    const bay = join(dir, "bay");
    mkdirSync(bay);
    const logs = join(dir, "logs");
    mkdirSync(logs);
    chownSync(logs, user.uid, user.gid);
    // mkfs.ext4's default: 5% of the blocks reserved for root.
    workFs = createLoopFs(dir, "workfs", {
      owner: { uid: user.uid, gid: user.gid },
    });
    workFs.mount(join(dir, "workfs"));
    changer = new TestChanger(dir, {
      name: "ns1",
      drives: 2,
      user: user.name,
      group: user.group,
      workDir: join(dir, "workfs", "work"),
      logFile: join(logs, "ns1.log"),
      bays: [{ path: bay, allowUnmounted: true }],
    });
    vols = await changer.init(1, 4);
  });

  beforeEach(async () => {
    rmSync(join(workFs.mountPoint as string, "fill"), { force: true });
    expectSuccess(await changer.sd("unload", 0, 1));
    expectSuccess(await changer.sd("load", 1, 0));
  });

  test("load fails with the path, ENOSPC and the reserved-blocks hint; state and loaded unchanged", async () => {
    fillUntilOnlyReserveLeft(workFs);
    const before = stateBytes(changer);
    const result = await changer.sd("load", 2, 1);
    expectFailure(
      result,
      5,
      `cannot write ${changer.driveLink(1)}: ENOSPC (no space left on device); ${reservedHint(workFs, user.uid)}; the previous state is unchanged`,
    );
    expect(stateBytes(changer)).toEqual(before);
    expectSuccess(await changer.sd("loaded", 0, 0), "1\n");
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
    // Space for the user again: the same load works.
    rmSync(join(workFs.mountPoint as string, "fill"));
    expectSuccess(await changer.sd("load", 2, 1));
    expectSuccess(await changer.sd("loaded", 0, 1), "2\n");
  });

  test("a load that gets its drive link written but not the state leaves both as they were", async () => {
    // One block: enough for the new symlink, not for drives.json after it.
    fillUntilOnlyReserveLeft(workFs, 1);
    const before = stateBytes(changer);
    const result = await changer.sd("load", 3, 1);
    expectFailure(
      result,
      5,
      `cannot write ${join(changer.workDir, "drives.json")}: ENOSPC (no space left on device); ${reservedHint(workFs, user.uid)}; the previous state is unchanged`,
    );
    expect(stateBytes(changer)).toEqual(before);
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
  });

  test("unload and a list that must record a new volume fail cleanly; the state stays readable", async () => {
    fillUntilOnlyReserveLeft(workFs);
    const before = stateBytes(changer);
    expectFailure(
      await changer.sd("unload", 1, 0),
      5,
      `cannot write ${join(changer.workDir, "drives.json")}: ENOSPC (no space left on device); ${reservedHint(workFs, user.uid)}; the previous state is unchanged`,
    );
    await changer.createvols(1, 1).then((r) => expect(r.exitCode).toBe(5));
    expectFailure(
      await changer.sd("list", 0, 0),
      5,
      `cannot write ${join(changer.workDir, "slots")}: ENOSPC (no space left on device); ${reservedHint(workFs, user.uid)}; the previous state is unchanged`,
    );
    expect(stateBytes(changer)).toEqual(before);
    expectSuccess(await changer.sd("loaded", 0, 0), "1\n");
    rmSync(join(workFs.mountPoint as string, "fill"));
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(5, { ...slotsOf(vols), 5: "ns1_0001_0005" }),
    );
  });

  test("a work dir on a filesystem remounted read-only: load fails with EROFS, loaded still answers", async () => {
    const before = stateBytes(changer);
    workFs.remount("ro");
    try {
      const result = await changer.sd("load", 2, 1);
      expectFailure(
        result,
        5,
        new RegExp(
          `^magchanger: cannot write ${changer.workDir}/\\S+: EROFS \\(read-only file system\\); the filesystem is mounted read-only: check the disk \\(dmesg\\) and remount it rw; the previous state is unchanged$`,
        ),
      );
      expectSuccess(await changer.sd("loaded", 0, 0), "1\n");
    } finally {
      workFs.remount("rw");
    }
    expect(stateBytes(changer)).toEqual(before);
  });

  test("a work dir the run-as user may not write: load fails with EACCES and the state is unchanged", async () => {
    const before = stateBytes(changer);
    chmodSync(changer.workDir, 0o555);
    try {
      const result = await changer.sd("load", 2, 1);
      expectFailure(
        result,
        5,
        `cannot write ${changer.driveLink(1)}: EACCES (permission denied); make ${changer.workDir} writable by uid ${user.uid} (magchanger setup creates it with the right owner); the previous state is unchanged`,
      );
      expectSuccess(await changer.sd("loaded", 0, 0), "1\n");
    } finally {
      chmodSync(changer.workDir, 0o750);
    }
    expect(stateBytes(changer)).toEqual(before);
  });
});

describe("read-only commands write nothing", () => {
  test("loaded, list, listall, slots and no-op load/unload leave every file in work_dir untouched", async () => {
    const dir = makeTempDir("readonly");
    dirs.push(dir);
    const bay = join(dir, "bay");
    mkdirSync(bay);
    const changer = new TestChanger(dir, {
      name: "ro1",
      drives: 2,
      bays: [{ path: bay, allowUnmounted: true }],
    });
    const vols = await changer.init(1, 3);
    expectSuccess(await changer.sd("load", 2, 0));
    expectSuccess(await changer.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
    const before = snapshotDir(changer.workDir);
    // Filesystem timestamps have a coarse clock: make any write visible in mtime/ctime.
    await Bun.sleep(20);
    expectSuccess(await changer.sd("loaded", 0, 0), "2\n");
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
    expectSuccess(await changer.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
    expectSuccess(
      await changer.sd("listall", 0, 0),
      `D:0:F:2:${vols[1]}\nD:1:E\nS:1:F:${vols[0]}\nS:2:E\nS:3:F:${vols[2]}\n`,
    );
    expectSuccess(await changer.sd("slots", 0, 0), "3\n");
    expectSuccess(await changer.sd("load", 2, 0));
    expectSuccess(await changer.sd("unload", 0, 1));
    expect(snapshotDir(changer.workDir)).toEqual(before);
  });
});
