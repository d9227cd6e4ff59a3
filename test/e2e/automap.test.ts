// The compiled binary as an autofs program map, through a symlink named auto.CHANGER, under a
// real automount (Debian's autofs): a labeled ext4 loop disk is mounted on access at MNT/KEY,
// expires when idle, and an absent disk or unknown key gives ENOENT. Everything started here
// (loop devices, mounts, automount) is stopped in afterAll, whatever the tests did.
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  setDefaultTimeout,
  test,
} from "bun:test";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import {
  type Automount,
  automountMapEnv,
  mountAt,
  startAutomount,
  until,
} from "../helpers/automount.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { BASE_ENV, ensureBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

// automount start, mount on access and expiry take seconds.
setDefaultTimeout(60_000);

const EXPIRE_SECONDS = 2;

const MAP_SUITE =
  "magchanger automap (e2e): the auto.CHANGER program map run as automount runs it";
const AUTOMOUNT_SUITE = "magchanger automap under a real automount";

async function runMap(
  link: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
) {
  const child = Bun.spawn([link, ...args], {
    cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, exitCode };
}

describe.skipIf(skipUnless(["loop"], MAP_SUITE))(MAP_SUITE, () => {
  let root: string;
  let mnt: string;
  let link: string;
  let disk: LoopFs;
  let automount: Automount | undefined;
  let env: Record<string, string>;
  const label = `mgam${process.pid % 100000}`;
  const expectedEntry = () =>
    `-fstype=ext4,rw,nodev,nosuid,noexec,noatime :${disk.device}\n`;

  beforeAll(() => {
    root = makeTempDir("automap");
    mnt = join(root, "mnt");
    mkdirSync(mnt);
    const confDir = join(root, "etc");
    mkdirSync(confDir);
    disk = createLoopFs(root, "disk", { sizeMiB: 16, label });
    writeFileSync(
      join(confDir, "amtest.toml"),
      [
        'name = "amtest"',
        "[[magazine]]",
        `path = "${mnt}/magazine"`,
        "[automap]",
        "luks = false",
        `label = "${label}"`,
        'fstype = "ext4"',
        "",
      ].join("\n"),
      { mode: 0o644 },
    );
    link = join(root, "auto.amtest");
    symlinkSync(ensureBinary(), link);
    env = { ...BASE_ENV, MAGCHANGER_CONFIG_DIR: confDir };
    const master = join(root, "auto.master");
    writeFileSync(
      master,
      `${mnt} program:${link} --timeout=${EXPIRE_SECONDS}\n`,
    );
  });

  afterAll(async () => {
    await automount?.stop(mnt ? [join(mnt, "magazine"), mnt] : []);
    destroyAllLoopFs();
    if (root) removeTempDir(root);
  });

  test("run through its auto.CHANGER link, it prints exactly one map entry and nothing else", async () => {
    // automount runs the map as root, as `map KEY`, from its mount point, with AUTOFS_*.
    const result = await runMap(
      link,
      ["magazine"],
      { ...env, ...automountMapEnv() },
      mnt,
    );
    expect(result).toEqual({
      stdout: expectedEntry(),
      stderr: "",
      exitCode: 0,
    });
  });

  test("an unknown key: nothing on stdout, one line on stderr, exit 1", async () => {
    const result = await runMap(link, ["nope"], env, mnt);
    expect(result).toEqual({
      stdout: "",
      stderr: `magchanger: automap: unknown key "nope"; ${join(root, "etc", "amtest.toml")} answers "magazine"\n`,
      exitCode: 1,
    });
  });

  test("the subcommand form with -c gives the same entry", async () => {
    const result = await runMap(
      ensureBinary(),
      ["automap", "-c", join(root, "etc", "amtest.toml"), "magazine"],
      env,
      root,
    );
    expect(result).toEqual({
      stdout: expectedEntry(),
      stderr: "",
      exitCode: 0,
    });
  });

  describe.skipIf(skipUnless(["automount"], AUTOMOUNT_SUITE))(
    AUTOMOUNT_SUITE,
    () => {
      test("automount mounts the labeled disk at MNT/KEY on access, expires it when idle, and an absent disk is ENOENT", async () => {
        automount = await startAutomount(
          join(root, "auto.master"),
          mnt,
          root,
          env,
        );
        const magazine = join(mnt, "magazine");
        expect(readdirSync(magazine)).toContain("lost+found");
        const mounted = mountAt(magazine);
        expect(mounted?.fsType).toBe("ext4");
        expect(mounted?.source).toBe(disk.device);
        expect(mounted?.options.split(",")).toEqual(
          expect.arrayContaining([
            "rw",
            "nodev",
            "nosuid",
            "noexec",
            "noatime",
          ]),
        );

        // Idle: autofs unmounts it a few seconds after the timeout (read mountinfo, never stat it).
        await until(
          "autofs to expire the idle mount",
          () => mountAt(magazine) === undefined,
          EXPIRE_SECONDS + 15,
        );

        expect(() => readdirSync(join(mnt, "unknown-key"))).toThrow(
          expect.objectContaining({ code: "ENOENT" }),
        );

        disk.destroy();
        expect(() => readdirSync(magazine)).toThrow(
          expect.objectContaining({ code: "ENOENT" }),
        );
        expect(mountAt(magazine)).toBeUndefined();
      });
    },
  );
});

test("automap --help documents the link, the master entry and exit status, on stderr (stdout is autofs's)", async () => {
  const result = await runMap(
    ensureBinary(),
    ["automap", "--help"],
    BASE_ENV,
    "/",
  );
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain("program:/etc/auto.usbchanger1");
  expect(result.stderr).toContain(
    "Exit status:\n  0  entry printed\n  1  unknown key or disk absent",
  );
});

test("through a link, a missing or extra key is a usage error, never an entry", async () => {
  const dir = makeTempDir("automap-link");
  try {
    const link = join(dir, "auto.nothing");
    symlinkSync(ensureBinary(), link);
    expect(await runMap(link, [], BASE_ENV, dir)).toEqual({
      stdout: "",
      stderr:
        'magchanger: auto.nothing: expected exactly one KEY (autofs runs it as "map KEY")\n',
      exitCode: 2,
    });
    expect(await runMap(link, ["a", "b"], BASE_ENV, dir)).toMatchObject({
      stdout: "",
      exitCode: 2,
    });
    const absent = await runMap(
      link,
      ["magazine"],
      { ...BASE_ENV, MAGCHANGER_CONFIG_DIR: dir },
      dir,
    );
    expect(absent).toEqual({
      stdout: "",
      stderr: `magchanger: automap: map auto.nothing answers from ${dir}/nothing.toml, which does not exist; name the map link auto.<changer> after the changer's config file\n`,
      exitCode: 3,
    });
  } finally {
    removeTempDir(dir);
  }
});
