// `magchanger setup` through the compiled binary: the dry run writes nothing, --write installs
// below --prefix and a second --write changes nothing, and bad input changes no file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { automountMapEnv, mountAt, until } from "../helpers/automount.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import {
  BASE_ENV,
  binaryForUsers,
  ensureBinary,
  runBinary,
  tool,
} from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { snapshot } from "../setup/snapshot.ts";

const setupArgs = (conf: string, prefix: string, ...extra: string[]) => [
  "setup",
  "-c",
  conf,
  "--prefix",
  prefix,
  ...extra,
];

describe("magchanger setup (compiled binary)", () => {
  let dir = "";
  let prefix = "";
  let conf = "";
  let binary = "";

  beforeAll(() => {
    binary = realpathSync(ensureBinary());
    dir = makeTempDir("e2e-setup");
    prefix = join(dir, "root");
    conf = join(prefix, "etc/magchanger/c1.toml");
    mkdirSync(join(prefix, "etc/magchanger"), { recursive: true });
    mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
    writeFileSync(
      join(prefix, "etc/bacula/bacula-sd.conf"),
      "Storage {\n  Name = sd\n}\n",
    );
    const owner =
      process.getuid?.() === 0 ? 'user = "root"\ngroup = "root"\n' : "";
    writeFileSync(
      conf,
      `name = "c1"\ndrives = 2\n${owner}[[magazine]]\npath = "/mnt/c1/magazine"\n`,
    );
  });
  afterAll(() => {
    if (dir) removeTempDir(dir);
  });

  test("without --write it prints every piece, running this binary, and writes nothing", async () => {
    const before = snapshot(prefix);
    const result = await runBinary(["setup", "-c", conf, "--prefix", prefix]);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
    expect(result.stdout).toContain(`RUN+="${binary} unlock /dev/%k bacula"`);
    expect(result.stdout).toContain(
      `Changer Command = "${binary} changer %c %o %S %a %d"`,
    );
    expect(result.stdout).toContain(
      'Changer Device = "/etc/magchanger/c1.toml"',
    );
    expect(result.stdout).toContain(
      "/mnt/c1 program:/etc/auto.c1 --timeout=10",
    );
    expect(result.stdout).toContain(
      `#### ${prefix}/etc/auto.c1: autofs program map (magchanger automap) (symlink -> ${binary})`,
    );
    expect(result.stdout).toContain(
      `\nType=oneshot\nExecStartPre=-${binary} unlock --release-stale -c /etc/magchanger/%i.toml\nExecStart=${binary} refresh -c /etc/magchanger/%i.toml\n`,
    );
    expect(result.stdout).toContain(
      `\nType=oneshot\nExecStartPre=-${binary} unlock --release-stale -c /etc/magchanger/%i.toml\nExecStart=${binary} refresh --if-pending -c /etc/magchanger/%i.toml\n`,
    );
    expect(result.stdout).toContain(
      "#  - enable the refresh safety net (it retries a Bacula update that failed): systemctl enable --now magchanger-refresh@c1.timer\n",
    );
    expect(snapshot(prefix)).toEqual(before);
  });

  test("--write installs below --prefix, and a second --write changes nothing", async () => {
    const first = await runBinary(setupArgs(conf, prefix, "--write"));
    expect({ exitCode: first.exitCode, stderr: first.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
    expect(first.stdout).toMatch(
      /^created {3}\S+\/etc\/udev\/rules\.d\/90-magchanger-c1\.rules /m,
    );
    expect(first.stdout).toMatch(
      /^changed {3}\S+\/etc\/bacula\/bacula-sd\.conf .*previous version kept as \S+bacula-sd\.conf\.magchanger-bak$/m,
    );
    expect(
      readFileSync(
        join(prefix, "etc/bacula/bacula-sd.conf.magchanger-bak"),
        "utf8",
      ),
    ).toBe("Storage {\n  Name = sd\n}\n");
    expect(readlinkSync(join(prefix, "etc/auto.c1"))).toBe(binary);
    const units = join(prefix, "etc/systemd/system");
    expect(first.stdout).toMatch(
      /^created {3}\S+\/etc\/systemd\/system\/magchanger-refresh@\.service /m,
    );
    expect(
      readFileSync(join(units, "magchanger-refresh@.service"), "utf8"),
    ).toContain(`\nExecStart=${binary} refresh -c /etc/magchanger/%i.toml\n`);
    expect(
      readFileSync(join(units, "magchanger-retry@.service"), "utf8"),
    ).toContain(
      `\nExecStart=${binary} refresh --if-pending -c /etc/magchanger/%i.toml\n`,
    );
    expect(
      readFileSync(join(units, "magchanger-refresh@.timer"), "utf8"),
    ).toContain(
      "\n[Timer]\nUnit=magchanger-retry@%i.service\nOnBootSec=2min\nOnUnitActiveSec=15min\n",
    );
    const after = snapshot(prefix);
    const second = await runBinary(setupArgs(conf, prefix, "--write"));
    expect({ exitCode: second.exitCode, stderr: second.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
    expect(second.stdout).toContain(
      "Everything was already in place; nothing changed.",
    );
    expect(second.stdout).not.toMatch(/^(created|changed) /m);
    expect(snapshot(prefix)).toEqual(after);
  });

  const refusals: [string, () => string[], number, RegExp][] = [
    [
      "an invalid config",
      () => [
        "setup",
        "-c",
        join(dir, "bad.toml"),
        "--prefix",
        prefix,
        "--write",
      ],
      3,
      /^magchanger: config \S+bad\.toml: drives: /,
    ],
    [
      "a missing --prefix directory",
      () => ["setup", "-c", conf, "--prefix", join(dir, "nope"), "--write"],
      2,
      /^magchanger: --prefix \S+: no such directory; create it first$/,
    ],
    [
      "a --binary path Bacula would split",
      () => [
        "setup",
        "-c",
        conf,
        "--prefix",
        prefix,
        "--write",
        "--binary",
        "/opt/my bin/magchanger",
      ],
      2,
      /^magchanger: --binary "\/opt\/my bin\/magchanger" cannot be written .*; install magchanger to \/usr\/local\/bin\/magchanger$/,
    ],
    [
      "an unknown option",
      () => ["setup", "-c", conf, "--prefix", prefix, "--wirte"],
      2,
      /^magchanger: setup: unknown option "--wirte"; run `magchanger setup --help`$/,
    ],
  ];
  for (const [what, argv, code, line] of refusals) {
    test(`${what} is refused with one line and no file changed`, async () => {
      writeFileSync(
        join(dir, "bad.toml"),
        'name = "c1"\ndrives = 0\n[[magazine]]\npath = "/mnt/x"\n',
      );
      const before = snapshot(prefix);
      const result = await runBinary(argv());
      expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({
        exitCode: code,
        stdout: "",
      });
      expect(result.stderr).toMatch(/^[^\n]+\n$/);
      expect(result.stderr.trimEnd()).toMatch(line);
      expect(snapshot(prefix)).toEqual(before);
    });
  }

  const USER_TEST =
    "--write into / as a user other than root is refused before anything runs";
  test.skipIf(skipUnless(["root", "exec-as-user"], USER_TEST))(
    USER_TEST,
    async () => {
      const child = Bun.spawn(
        [binaryForUsers(), "setup", "-c", conf, "--write"],
        {
          uid: 65534,
          gid: 65534,
          env: BASE_ENV,
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const [stdout, stderr, exitCode] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      expect({ exitCode, stdout }).toEqual({ exitCode: 2, stdout: "" });
      expect(stderr).toBe(
        "magchanger: setup --write installs into /etc and /var: run it as root (sudo), or stage the files with --prefix DIR\n",
      );
    },
  );
});

const MAP_SUITE = "setup's autofs entry and program map";
const AUTOMOUNT_SUITE = "setup's autofs entry under a real automount";

describe.skipIf(skipUnless(["loop"], MAP_SUITE))(MAP_SUITE, () => {
  let dir = "";
  let automount: Bun.Subprocess | undefined;
  let mountDir = "";
  let prefix = "";
  let binary = "";
  let disk: LoopFs;
  /** The master.d entry as setup wrote it. */
  let entry = "";
  const env = () => ({
    ...BASE_ENV,
    MAGCHANGER_CONFIG_DIR: join(prefix, "etc/magchanger"),
  });

  beforeAll(async () => {
    binary = realpathSync(ensureBinary());
    dir = makeTempDir("e2e-setup-autofs");
    prefix = join(dir, "root");
    mountDir = join(dir, "mnt");
    const conf = join(prefix, "etc/magchanger/a1.toml");
    mkdirSync(join(prefix, "etc/magchanger"), { recursive: true });
    writeFileSync(
      conf,
      `name = "a1"\nuser = "root"\ngroup = "root"\nwork_dir = "${dir}/work"\nlog_file = "${dir}/log/a1.log"\n[automap]\nluks = false\nlabel = "mctest-a1"\n[[magazine]]\npath = "${mountDir}/magazine"\n`,
    );
    const setup = await runBinary(setupArgs(conf, prefix, "--write"));
    expect(setup.exitCode).toBe(0);
    disk = createLoopFs(dir, "a1", { label: "mctest-a1" });
    entry = readFileSync(
      join(prefix, "etc/auto.master.d/magchanger-a1.autofs"),
      "utf8",
    );
  });

  afterAll(async () => {
    if (automount) {
      automount.kill("SIGTERM");
      await Promise.race([automount.exited, Bun.sleep(5000)]);
      if (automount.exitCode === null) automount.kill("SIGKILL");
    }
    for (const at of [join(mountDir, "magazine"), mountDir])
      if (mountDir && mountAt(at))
        tool(["umount", "-l", "--", at], { okCodes: [0, 32] });
    destroyAllLoopFs();
    if (dir) removeTempDir(dir);
  });

  test("the entry names /etc/auto.a1, and the staged map link is this binary", () => {
    // The staged map link lives below the prefix; the live entry names /etc/auto.a1.
    expect(entry).toContain(
      `\n${mountDir} program:/etc/auto.a1 --timeout=10 --negative-timeout=5\n`,
    );
    expect(readlinkSync(join(prefix, "etc/auto.a1"))).toBe(binary);
  });

  test("the map link, run as automount runs it (root, `map KEY`, from the mount point, AUTOFS_*), answers with the labeled disk", async () => {
    mkdirSync(mountDir, { recursive: true });
    const child = Bun.spawn([join(prefix, "etc/auto.a1"), "magazine"], {
      cwd: mountDir,
      env: { ...env(), ...automountMapEnv() },
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
    expect({ stdout, stderr, exitCode }).toEqual({
      stdout: `-fstype=auto,rw,nodev,nosuid,noexec,noatime :${disk.device}\n`,
      stderr: "",
      exitCode: 0,
    });
  });

  describe.skipIf(skipUnless(["automount"], AUTOMOUNT_SUITE))(
    AUTOMOUNT_SUITE,
    () => {
      test("the generated master.d file, unchanged but for the staged map path, mounts the labeled disk on access", async () => {
        const master = join(dir, "master");
        writeFileSync(
          master,
          entry.replace(
            " program:/etc/auto.a1 ",
            ` program:${prefix}/etc/auto.a1 `,
          ),
        );
        // setsid: autofs never triggers mounts for its own process group.
        automount = Bun.spawn(["setsid", "automount", "-f", "-v", master], {
          env: env(),
          stdout: "ignore",
          stderr: "ignore",
        });
        await until(
          "automount to mount its autofs",
          () => mountAt(mountDir)?.fsType === "autofs",
          10,
        );
        expect(readdirSync(join(mountDir, "magazine"))).toContain("lost+found");
        expect(mountAt(join(mountDir, "magazine"))).toMatchObject({
          fsType: "ext4",
          source: disk.device,
        });
      });
    },
  );
});
