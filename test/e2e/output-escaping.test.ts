// Issue 19, items 3, 4 and 6: no text from Bacula or a disk reaches a terminal raw. The storage
// daemon and the Director belong to the run-as user on Debian (bacula), so what they answer is
// the attacker's: a volume a job waits for named "W\x9bAIT\x1b[2J", a job named with an OSC
// title sequence, a bconsole answer that clears the screen and forges `safe to unplug`. The root
// commands run against the compiled binary must print every such byte escaped, on stdout and on
// stderr, in text and in --json (where U+009B and U+202E are \u escapes). bconsole is a fake that
// prints what the attacker's daemons would; the attacker is the changer's run-as user.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { type RootCase, rootCases } from "../helpers/root-case.ts";
import { type RunResult, runBinary, tool } from "../helpers/run.ts";

const SUITE = "root commands print Bacula's and the disk's text escaped";

/** Bytes a terminal acts on: C0 but the newline, DEL, C1 (as UTF-8 or raw), bidi controls. */
const RAW_CONTROL =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

function expectNoRawControl(result: RunResult): void {
  expect(result.stdout).not.toMatch(RAW_CONTROL);
  expect(result.stderr).not.toMatch(RAW_CONTROL);
}

const STATUS = readFileSync(
  join(import.meta.dir, "../bacula/fixtures/sd-status-blocked-mount.txt"),
  "utf8",
);
const EVIL_VOLUME = "W\u009bAIT\u001b[2J";
const EVIL_JOB = "mc\u001b]0;owned\u0007restore\u202e";

function isMountPoint(dir: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === dir);
}

describe.skipIf(
  skipUnless(["root", "tool:useradd", "tool:setpriv", "tool:mount"], SUITE),
)(SUITE, () => {
  const cases = rootCases("escaping");
  const mounted: string[] = [];
  beforeAll(() => cases.start());
  afterAll(() => {
    for (const at of mounted.reverse())
      if (isMountPoint(at)) tool(["umount", "-l", "--", at]);
    cases.stop();
  });

  /** A changer run as the attacker, its bconsole a fake printing answer (exiting with code). */
  function changer(c: RootCase, answer: string, code = 0, bay?: string) {
    const answerFile = join(c.dir, "answer");
    writeFileSync(answerFile, answer);
    const bconsole = join(c.dir, "bconsole");
    writeFileSync(
      bconsole,
      `#!/bin/sh\ncat > /dev/null\ncat ${answerFile}\nexit ${code}\n`,
    );
    chmodSync(bconsole, 0o755);
    // No Director resource: doctor then asks bconsole instead of probing a port first.
    const bconsoleConf = join(c.dir, "bconsole.conf");
    writeFileSync(bconsoleConf, "# the fake bconsole reads nothing\n");
    const work = cases.attackerDir(join(c.dir, "work"));
    const logs = cases.attackerDir(join(c.dir, "logs"));
    const bayPath = bay ?? join(c.dir, "bay");
    if (!bay) tool(["mkdir", "--", bayPath]);
    const conf = join(c.dir, "mc.toml");
    writeFileSync(
      conf,
      `name = "mc"\nwork_dir = "${work}"\nlog_file = "${logs}/mc.log"\n${cases.runAsLines()}drives = 2\n` +
        `[[magazine]]\npath = "${bayPath}"\n${bay ? "" : "allow_unmounted = true\n"}` +
        `[bacula]\nbconsole = "${bconsole}"\nconfig = "${bconsoleConf}"\ntimeout = 20\n`,
      { mode: 0o644 },
    );
    return { conf, work, bay: bayPath, answerFile };
  }

  async function init(conf: string) {
    const r = await runBinary([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "2",
    ]);
    expect(r.exitCode).toBe(0);
  }

  test("refresh and vchanger's REFRESH print the volume a job waits for escaped", async () => {
    const c = cases.newCase();
    const { conf } = changer(
      c,
      STATUS.replaceAll("mccap_0002_0006", EVIL_VOLUME),
    );
    await init(conf);
    const wanted = `a job is waiting for volume "W\\x9bAIT\\x1b[2J" on drive 0: once its disk is in`;
    // REFRESH first: the changer was never refreshed, so it runs bconsole; then --force does.
    for (const argv of [
      [conf, "REFRESH"],
      ["refresh", "-c", conf, "--force"],
    ]) {
      const r = await runBinary(argv);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(wanted);
      expectNoRawControl(r);
    }
  });

  test("refresh prints the name of a job it resumed escaped", async () => {
    const c = cases.newCase();
    const { conf } = changer(
      c,
      STATUS.replaceAll("mccap_0002_0006", "mc_0001_0002").replaceAll(
        "mc-restore",
        EVIL_JOB,
      ),
    );
    await init(conf);
    const r = await runBinary(["refresh", "-c", conf]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(
      'resumed drive 0: mc\\x1b]0;owned\\x07restore\\u202e (JobId 3) waited for volume "mc_0001_0002" (slot 2)',
    );
    expectNoRawControl(r);
  });

  test("status and status --json escape what the storage daemon said; JSON as \\u009b and \\u202e", async () => {
    const c = cases.newCase();
    const { conf } = changer(
      c,
      STATUS.replaceAll("mccap_0002_0006", `${EVIL_VOLUME}\u202e`).replaceAll(
        "mc-restore",
        EVIL_JOB,
      ),
    );
    await init(conf);
    const text = await runBinary(["status", "-c", conf]);
    expect(text.stdout).toContain("W\\x9bAIT\\x1b[2J\\u202e");
    expectNoRawControl(text);
    const json = await runBinary(["status", "-c", conf, "--json"]);
    expect(json.exitCode).toBe(0);
    expectNoRawControl(json);
    expect(json.stdout).toContain("W\\u009bAIT\\u001b[2J\\u202e");
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain(
      JSON.stringify(`${EVIL_VOLUME}\u202e`).slice(1, -1),
    );
  });

  test("doctor --json escapes the Director's answer as JSON escapes, doctor's text as \\x escapes", async () => {
    const c = cases.newCase();
    const { conf } = changer(c, `\u001b[2J\u009b1;1Hall \u202eclear\n`, 1);
    await init(conf);
    const json = await runBinary(["doctor", "-c", conf, "--json"]);
    expectNoRawControl(json);
    const director = (
      JSON.parse(json.stdout) as { checks: { name: string; message: string }[] }
    ).checks.find((check) => check.name === "director");
    expect(director?.message).toContain("\u009b1;1Hall \u202eclear");
    expect(json.stdout).toContain("\\u001b[2J\\u009b1;1Hall \\u202eclear");
    const text = await runBinary(["doctor", "-c", conf]);
    expect(text.stdout).toContain("\\x1b[2J\\x9b1;1Hall \\u202eclear");
    expectNoRawControl(text);
  });

  test("magazines.json's times are times: a planted attachedAt or removedAt is never printed, raw or in --json", async () => {
    const c = cases.newCase();
    const { conf, work } = changer(c, "");
    await init(conf);
    const uuid = (
      await runBinary(["magazine", "list", "-c", conf, "--json"])
    ).stdout.match(/"uuid": "([0-9a-f-]{36})"/)?.[1];
    expect(uuid).toBeDefined();
    const planted = `${work}/magazines.json.planted`;
    writeFileSync(
      planted,
      JSON.stringify({
        version: 1,
        magazines: [
          {
            uuid,
            number: 1,
            attached: true,
            bay: 1,
            attachedAt: "2026-01-03T00:00:00.000Z\u001b[1;1Hforged",
          },
          {
            uuid: "7b7f0000-1111-2222-3333-444455556666",
            number: 2,
            attached: false,
            bay: 1,
            attachedAt: "2026-01-01T00:00:00.000Z\u009b2J\u202eforged",
            removedAt: "2026-01-02T00:00:00.000Z\u001b[2Jforged",
          },
        ],
      }),
    );
    cases.attacker().run(["cp", "--", planted, `${work}/magazines.json`]);
    for (const argv of [
      ["magazine", "list", "-c", conf],
      ["magazine", "list", "-c", conf, "--json"],
      ["where", "-c", conf, "mc_0001_0001"],
      ["where", "-c", conf, "mc_0001_0001", "--json"],
    ]) {
      const r = await runBinary(argv);
      expectNoRawControl(r);
      expect(r.stdout).not.toContain("forged");
    }
  });

  test("eject prints bconsole's answer escaped: no cleared screen, no forged `safe to unplug`", async () => {
    const c = cases.newCase();
    const bay = join(c.dir, "bay");
    tool(["mkdir", "--", bay]);
    tool(["mount", "-t", "tmpfs", "-o", "size=1m", "--", "magtest", bay]);
    mounted.push(bay);
    const forged = `\u001b]0;t\u0007\u001b[2J\u001b[1;1Hsafe to unplug "all disks"\r\u001b[K`;
    const { conf } = changer(c, `${forged}\n`, 1, bay);
    await init(conf);
    const r = await runBinary(["eject", "-c", conf], { timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    expect(isMountPoint(bay)).toBe(false);
    expect(r.stdout).toContain(
      '\\x1b]0;t\\x07\\x1b[2J\\x1b[1;1Hsafe to unplug "all disks"\\r\\x1b[K',
    );
    expect(r.stdout).toMatch(
      /\nsafe to unplug magazine 1 \(UUID [0-9a-f-]{36}\)\n$/,
    );
    expectNoRawControl(r);
  });
});
