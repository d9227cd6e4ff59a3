// `magchanger doctor` through the compiled binary on a real ext4 loop filesystem: the seed's trap
// (blocks reserved for root that the run-as user cannot use) with the exact tune2fs fix, which
// then clears it; and each FAIL the chain can have, with a non-zero exit.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import type { Check } from "../../src/doctor/check.ts";
import { withHostKernel } from "../../src/doctor/kernel.ts";
import { realHostKernel } from "../../src/system/kernel.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import {
  ensureBinary,
  type RunResult,
  runBinary,
  tool,
} from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser, type TestUser } from "../helpers/users.ts";

const SUITE = "magchanger doctor on a real ext4 magazine (loop device)";

/** doctor's FAILs for what this host lacks (no udev daemon, no autofs, ...): not the config's fault. */
function hostFailures(conf: string): Check[] {
  return withHostKernel([], loadConfig(conf), realHostKernel()).filter(
    (c) => c.status === "fail",
  );
}

function parse(result: RunResult): Check[] {
  return (JSON.parse(result.stdout) as { checks: Check[] }).checks;
}

describe.skipIf(skipUnless(["loop", "tool:tune2fs"], SUITE))(SUITE, () => {
  let dir = "";
  let prefix = "";
  let conf = "";
  let bay = "";
  let disk: LoopFs;
  let user: TestUser;
  let baseText = "";

  const doctor = (config = conf, extra: string[] = []) =>
    runBinary(["doctor", "-c", config, "--prefix", prefix, ...extra]);
  const variant = (name: string, text: string) => {
    const file = join(dir, "variants", `${name}.toml`);
    writeFileSync(file, text);
    return file;
  };

  beforeAll(async () => {
    ensureBinary();
    user = ensureTestUser();
    dir = makeTempDir("e2e-doctor");
    prefix = join(dir, "root");
    bay = join(dir, "mnt/magazine");
    conf = join(prefix, "etc/magchanger/d1.toml");
    for (const d of ["etc/magchanger", "etc/bacula"])
      mkdirSync(join(prefix, d), { recursive: true });
    mkdirSync(join(dir, "variants"));
    writeFileSync(join(prefix, "etc/auto.master"), "+dir:/etc/auto.master.d\n");
    writeFileSync(join(dir, "key"), "k".repeat(64));
    chmodSync(join(dir, "key"), 0o400);
    writeFileSync(join(dir, "bconsole.conf"), "");
    baseText = `name = "d1"
work_dir = "${dir}/work"
log_file = "${dir}/log/d1.log"
user = "${user.name}"
group = "${user.group}"
[luks]
key_file = "${dir}/key"
[bacula]
config = "${dir}/bconsole.conf"
[[magazine]]
path = "${bay}"
`;
    writeFileSync(conf, baseText);
    // The live work dir and log (setup --prefix made its copies below the prefix).
    for (const d of ["work", "log"]) {
      mkdirSync(join(dir, d), { mode: 0o750 });
      chownSync(join(dir, d), user.uid, user.gid);
    }
    const setup = await runBinary([
      "setup",
      "-c",
      conf,
      "--prefix",
      prefix,
      "--write",
    ]);
    expect(setup.exitCode).toBe(0);
    // mkfs.ext4's default: 5% of the blocks reserved for root. Large enough that ext4's own
    // reserve is its 4096-cluster cap, as on any real disk (below, statfs can only estimate it).
    disk = createLoopFs(dir, "doctor", { sizeMiB: 320 });
    disk.mount(bay);
    const init = await runBinary([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "2",
    ]);
    expect({ exitCode: init.exitCode, stderr: init.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
  });

  afterAll(() => {
    destroyAllLoopFs();
    if (dir) removeTempDir(dir);
  });

  test("the reserved blocks are a WARN with the exact tune2fs fix; nothing fails but what this host lacks", async () => {
    const result = await doctor(conf, ["--json"]);
    const checks = parse(result);
    const lacking = hostFailures(conf);
    expect(checks.filter((c) => c.status === "fail")).toEqual(lacking);
    expect(result.exitCode).toBe(lacking.length ? 1 : 0);
    const bayCheck = checks.find((c) => c.name === "bay 1");
    expect(bayCheck).toMatchObject({
      status: "warn",
      fix: `tune2fs -m 0 ${disk.device}`,
    });
    expect(bayCheck?.message).toContain(`magazine 1 (`);
    expect(bayCheck?.message).toContain(
      `2 volume(s), ${disk.device} (ext4) at ${bay}`,
    );
    expect(bayCheck?.message).toContain(
      `are reserved for root, which ${user.name} cannot use`,
    );
  });

  test("doctor (root, the superblock) and magazine list (the run-as user, statfs) print one reserved figure", async () => {
    const figure = (text: string) =>
      /([\d.]+ [KMG]i?B) are reserved for root/.exec(text)?.[1];
    const fromDoctor = figure(
      parse(await doctor(conf, ["--json"])).find((c) => c.name === "bay 1")
        ?.message ?? "",
    );
    const list = await runBinary(["magazine", "list", "-c", conf]);
    expect(list.exitCode).toBe(0);
    expect(fromDoctor).toBeDefined();
    expect(figure(list.stdout)).toBe(fromDoctor);
  });

  test("when only reserved blocks are left, the bay FAILs (df as root still shows space)", async () => {
    const filler = join(bay, "filler");
    for (let i = 0; i < 5; i++) {
      const fs = statfsSync(bay);
      if (Number(fs.bavail) === 0) break;
      tool([
        "fallocate",
        "-l",
        String(Number(fs.bavail) * Number(fs.bsize)),
        "--",
        `${filler}${i}`,
      ]);
    }
    const fs = statfsSync(bay);
    expect(Number(fs.bavail)).toBe(0);
    expect(Number(fs.bfree)).toBeGreaterThan(0);
    const result = await doctor();
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(`FAIL  bay 1: ${bay}: magazine 1 (`);
    expect(result.stdout).toContain(`      fix: tune2fs -m 0 ${disk.device}\n`);
    expect(result.stderr).toMatch(
      new RegExp(
        `^magchanger: doctor: ${1 + hostFailures(conf).length} failed, \\d+ warning\\(s\\), \\d+ ok\\.\n$`,
      ),
    );
    for (let i = 0; i < 5; i++) rmSync(`${filler}${i}`, { force: true });
  });

  test("after the printed fix the bay is OK", async () => {
    tool(["tune2fs", "-m", "0", disk.device]);
    const checks = parse(await doctor(conf, ["--json"]));
    expect(checks.find((c) => c.name === "bay 1")?.status).toBe("ok");
  });

  const failCases: [string, () => string, string, RegExp][] = [
    [
      "a missing run-as user",
      () =>
        variant(
          "nouser",
          baseText.replace(
            `user = "${user.name}"`,
            'user = "magchanger-no-such-user"',
          ),
        ),
      "run-as user",
      /^FAIL {2}run-as user: user "magchanger-no-such-user" does not exist/m,
    ],
    [
      "a missing work dir",
      () =>
        variant("nowork", baseText.replace(`${dir}/work`, `${dir}/no-work`)),
      "work dir",
      /^FAIL {2}work dir: \S+\/no-work does not exist\n {6}fix: magchanger setup -c /m,
    ],
    [
      "an absent magazine",
      () => {
        mkdirSync(join(dir, "empty/magazine"), { recursive: true });
        return variant(
          "absent",
          baseText.replace(bay, join(dir, "empty/magazine")),
        );
      },
      "bay 1",
      /^FAIL {2}bay 1: \S+\/empty\/magazine: magazine absent: nothing is mounted at /m,
    ],
    [
      "a key file others can read",
      () => {
        writeFileSync(join(dir, "key-open"), "k".repeat(64));
        chmodSync(join(dir, "key-open"), 0o644);
        return variant(
          "openkey",
          baseText.replace(`${dir}/key`, `${dir}/key-open`),
        );
      },
      "key file",
      /^FAIL {2}key file: \S+\/key-open is owned by uid 0 with mode 0644: unlock refuses a key others can read or replace\n {6}fix: chown root:root \S+; chmod 0400 \S+$/m,
    ],
  ];
  for (const [what, make, name, line] of failCases) {
    test(`${what} is a FAIL with its fix, and doctor exits 1`, async () => {
      const file = make();
      const result = await doctor(file);
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toMatch(line);
      expect(result.stderr).toMatch(
        /^magchanger: doctor: \d+ failed, \d+ warning\(s\), \d+ ok\.\n$/,
      );
      const json = parse(await doctor(file, ["--json"]));
      expect(json.some((c) => c.status === "fail" && c.name === name)).toBe(
        true,
      );
    });
  }

  test("a --prefix that does not exist is a usage error, not a list of FAILs", async () => {
    const result = await runBinary([
      "doctor",
      "-c",
      conf,
      "--prefix",
      join(dir, "nope"),
    ]);
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({
      exitCode: 2,
      stdout: "",
    });
    expect(result.stderr).toBe(
      `magchanger: --prefix ${join(dir, "nope")}: no such directory; give the DIR setup --prefix wrote to\n`,
    );
  });

  test("doctor writes nothing", async () => {
    const before = readFileSync(conf, "utf8");
    await doctor();
    expect(readFileSync(conf, "utf8")).toBe(before);
  });
});
