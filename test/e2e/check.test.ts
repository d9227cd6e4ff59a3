// The compiled binary as a Nagios/Icinga plugin (`check`) and as node_exporter's metrics writer
// (`status --prometheus`), against a changer on directory bays and a fake bconsole that answers
// `status storage` with a real 9.6.7 capture: each state's exit code and first line, every
// failure answered on stdout, the metrics file read back strictly; as root, the metrics gathered
// as the run-as user and written by root only into a directory root alone controls.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { TestChanger } from "../helpers/changer.ts";
import { parsePromText } from "../helpers/prom-text.ts";
import { binaryForUsers, runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser } from "../helpers/users.ts";

const FIXTURES = join(import.meta.dir, "..", "bacula", "fixtures");
const top = makeTempDir("check");
afterAll(() => removeTempDir(top));
let dir = "";
let n = 0;
let changer: TestChanger;

function bconsole(): string {
  const path = join(dir, "bconsole");
  writeFileSync(
    path,
    `#!/bin/bash
in=$(cat)
case "$in" in *"status storage"*)
  [ -e ${dir}/sd-status ] || { echo "Failed to connect to Director"; exit 1; }
  cat ${dir}/sd-status ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

function makeChanger(extra = "", user?: string): TestChanger {
  changer = new TestChanger(dir, {
    name: "mc",
    bays: [{ path: join(dir, "bay"), allowUnmounted: true }],
    ...(user ? { user, group: user } : {}),
  });
  writeFileSync(
    changer.conf,
    `${readFileSync(changer.conf, "utf8")}[bacula]\nbconsole = "${bconsole()}"\n${extra}`,
  );
  return changer;
}

const sdSays = (fixture: string) =>
  writeFileSync(
    join(dir, "sd-status"),
    readFileSync(join(FIXTURES, `sd-status-${fixture}.txt`), "utf8"),
  );
const check = (...args: string[]) =>
  runBinary(["check", "-c", changer.conf, ...args]);
const first = (stdout: string) => stdout.split("\n")[0] as string;

beforeEach(async () => {
  dir = join(top, String(++n));
  mkdirSync(join(dir, "bay"), { recursive: true });
  chmodSync(dir, 0o755);
});

describe("magchanger check", () => {
  beforeEach(async () => {
    makeChanger();
    await changer.init(1, 3, ["--name", "Monday"]);
  });

  test("all well after a refresh: exit 0 and one OK line with every figure", async () => {
    sdSays("idle");
    expect((await runBinary(["refresh", "-c", changer.conf])).exitCode).toBe(0);
    const r = await check();
    expect(r).toMatchObject({ exitCode: 0, stderr: "" });
    expect(first(r.stdout)).toMatch(
      /^MAGCHANGER OK - magazine 1 "Monday" attached 0\.0 days, [\d.]+ [KMGT]iB free; 3 volumes; no job waits \| 'volumes'=3;;;0 'attached_magazines'=1;;1:;0 'queued_events'=\d+;;;0 'waiting_jobs'=0;;;0 'magazine_1_free'=\d+B;\d+:;\d+:;0;\d+ 'magazine_1_days_attached'=0\.00;;;0$/,
    );
    expect(r.stdout.split("\n")[1]).toStartWith('magazine 1 "Monday" (UUID ');
  });

  test("volumes Bacula never heard of: exit 1, WARNING", async () => {
    sdSays("idle");
    const r = await check();
    expect(r.exitCode).toBe(1);
    expect(first(r.stdout)).toStartWith(
      "MAGCHANGER WARNING - Bacula was never told about the volumes: run `magchanger refresh` | ",
    );
  });

  test("a backup blocked waiting for any appendable volume: exit 2, CRITICAL naming the job", async () => {
    sdSays("idle");
    await runBinary(["refresh", "-c", changer.conf]);
    sdSays("blocked-append");
    const r = await check();
    expect(r).toMatchObject({ exitCode: 2, stderr: "" });
    expect(first(r.stdout)).toStartWith(
      "MAGCHANGER CRITICAL - mc-backup JobId 4 on drive 1 waits for any appendable volume: no disk in a bay has a volume to write; attach one that has, or add volumes | ",
    );
    expect(first(r.stdout)).toContain("'waiting_jobs'=1;;;0");
  });

  test("the storage daemon unreachable: exit 3, UNKNOWN; --local does not ask it", async () => {
    await runBinary(["refresh", "-c", changer.conf]);
    const r = await check();
    expect(r.exitCode).toBe(3);
    expect(first(r.stdout)).toStartWith(
      "MAGCHANGER UNKNOWN - cannot ask the storage daemon what it waits for: bconsole exited with 1: Failed to connect to Director; ",
    );
    expect(first(r.stdout)).toContain("'waiting_jobs'=U;;;0");
    const local = await check("--local");
    expect(local.exitCode).toBe(0);
    expect(first(local.stdout)).not.toContain("waiting_jobs");
  });

  test("a wrong command line, a missing config, a bad threshold: exit 3 with UNKNOWN on stdout, nothing on stderr", async () => {
    expect(
      await runBinary(["check", "-c", changer.conf, "--wrong"]),
    ).toMatchObject({
      exitCode: 3,
      stdout:
        'MAGCHANGER UNKNOWN - check: unknown option "--wrong"; run `magchanger check --help`\n',
      stderr: "",
    });
    expect(await runBinary(["check"])).toMatchObject({
      exitCode: 3,
      stdout:
        "MAGCHANGER UNKNOWN - check: missing -c CONF; run `magchanger check --help`\n",
    });
    const missing = await runBinary(["check", "-c", join(dir, "nope.toml")]);
    expect(missing).toMatchObject({ exitCode: 3, stderr: "" });
    expect(missing.stdout).toBe(
      `MAGCHANGER UNKNOWN - cannot read config ${join(dir, "nope.toml")}: ENOENT (no such file or directory); pass the changer's .toml file (see conf/magchanger.toml)\n`,
    );
    expect(await check("--free-warning", "lots")).toMatchObject({
      exitCode: 3,
      stdout:
        'MAGCHANGER UNKNOWN - check: --free-warning "lots": give a percentage of the disk (10%) or a size (500M, 2G, bytes)\n',
    });
  });

  test("a corrupt slot registry: exit 2, CRITICAL (the changer stops), and it is left as it was", async () => {
    const slots = join(changer.workDir, "slots");
    writeFileSync(slots, "garbage\n");
    const r = await check("--local");
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toStartWith(`MAGCHANGER CRITICAL - `);
    expect(r.stdout).toContain(slots);
    expect(readFileSync(slots, "utf8")).toBe("garbage\n");
  });

  test("free space thresholds from the options: a threshold above the disk's size is CRITICAL", async () => {
    sdSays("idle");
    await runBinary(["refresh", "-c", changer.conf]);
    const r = await check(
      "--free-warning",
      "100%",
      "--free-critical",
      "99999T",
    );
    expect(r.exitCode).toBe(2);
    expect(first(r.stdout)).toMatch(
      /^MAGCHANGER CRITICAL - magazine 1 "Monday" has [\d.]+ [KMGT]iB of [\d.]+ [KMGT]iB free \| /,
    );
    expect(first(r.stdout)).toContain(`;${99999 * 1024 ** 4}:;0;`);
  });

  test("a disk in its bay past [rotation] max_days_attached: exit 1, WARNING naming it and the limit", async () => {
    makeChanger("[rotation]\nmax_days_attached = 2\n");
    sdSays("idle");
    expect((await runBinary(["refresh", "-c", changer.conf])).exitCode).toBe(0);
    expect((await check()).exitCode).toBe(0);
    // The arrival refresh recorded, moved three days back: what a disk left in looks like.
    const path = join(changer.workDir, "magazines.json");
    const known = JSON.parse(readFileSync(path, "utf8"));
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000 - 60_000);
    known.magazines[0].attachedAt = threeDaysAgo.toISOString();
    writeFileSync(path, JSON.stringify(known));
    const r = await check();
    expect(r).toMatchObject({ exitCode: 1, stderr: "" });
    expect(first(r.stdout)).toStartWith(
      'MAGCHANGER WARNING - magazine 1 "Monday" attached in bay 1 for 3.0 days ([rotation] max_days_attached = 2: swap in another disk, the offsite copy is getting old) | ',
    );
    expect(first(r.stdout)).toMatch(/ 'magazine_1_days_attached'=3\.00;2;;0$/);
  });

  test("writes nothing in the work dir", async () => {
    sdSays("idle");
    await runBinary(["refresh", "-c", changer.conf]);
    const listing = () =>
      readdirSync(changer.workDir, { recursive: true })
        .map(String)
        .sort()
        .map((f) => `${f}:${lstatSync(join(changer.workDir, f)).mtimeMs}`);
    const before = listing();
    await check();
    await check("--local");
    expect(listing()).toEqual(before);
  });
});

describe("magchanger status --prometheus", () => {
  beforeEach(async () => {
    makeChanger();
    await changer.init(1, 3, ["--name", "Monday"]);
    sdSays("blocked-append");
  });

  test("FILE is written atomically, prints nothing, and reads back strictly", async () => {
    const file = join(dir, "mc.prom");
    writeFileSync(file, "old\n");
    const r = await runBinary([
      "status",
      "-c",
      changer.conf,
      "--prometheus",
      file,
    ]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    const text = readFileSync(file, "utf8");
    const families = parsePromText(text);
    const sample = (name: string) =>
      families.find((f) => f.name === name)?.samples[0];
    expect(sample("magchanger_volumes")).toEqual({
      name: "magchanger_volumes",
      labels: { changer: "mc" },
      value: 3,
    });
    expect(sample("magchanger_jobs_waiting")?.value).toBe(1);
    expect(sample("magchanger_magazine_free_bytes")?.labels).toEqual({
      changer: "mc",
      magazine: "1",
    });
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    const stdout = await runBinary([
      "status",
      "-c",
      changer.conf,
      "--prometheus",
      "-",
    ]);
    expect(stdout.exitCode).toBe(0);
    expect(stdout.stdout.replace(/_free_bytes\{[^}]*\} \d+/, "")).toBe(
      text.replace(/_free_bytes\{[^}]*\} \d+/, ""),
    );
  });

  test("--json with --prometheus is a usage error", async () => {
    expect(
      await runBinary([
        "status",
        "-c",
        changer.conf,
        "--json",
        "--prometheus",
        "-",
      ]),
    ).toMatchObject({
      exitCode: 2,
      stdout: "",
      stderr:
        "magchanger: status: --json and --prometheus exclude each other; run `magchanger status --help`\n",
    });
  });
});

describe.skipIf(
  skipUnless(
    ["root", "tool:useradd", "tool:setpriv"],
    "check and metrics as root",
  ),
)("check and metrics as root", () => {
  let attacker: Attacker;
  afterAll(() => attacker?.remove());

  test("as root the metrics are gathered as the run-as user and written by root", async () => {
    const user = ensureTestUser();
    makeChanger("", user.name);
    writeFileSync(
      changer.conf,
      readFileSync(changer.conf, "utf8").replace(
        'log_level = "info"',
        'log_level = "debug"',
      ),
    );
    chownSync(join(dir, "bay"), user.uid, user.gid);
    // The log is the run-as user's (setup makes it so): the child's debug line proves who it ran as.
    writeFileSync(changer.logFile, "");
    chownSync(changer.logFile, user.uid, user.gid);
    await changer.init(1, 2);
    sdSays("idle");
    const out = join(dir, "metrics");
    mkdirSync(out, { mode: 0o755 });
    const file = join(out, "mc.prom");
    const r = await runBinary([
      "status",
      "-c",
      changer.conf,
      "--prometheus",
      file,
    ]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    expect(statSync(file).uid).toBe(0);
    expect(parsePromText(readFileSync(file, "utf8")).length).toBeGreaterThan(5);
    expect(readFileSync(changer.logFile, "utf8")).toContain(
      `switched to ${user.name}(${user.uid})`,
    );
  });

  test("root refuses to write into a directory another user can change; the old file stays", async () => {
    attacker = createAttacker();
    makeChanger();
    await changer.init(1, 2);
    const out = join(dir, "theirs");
    mkdirSync(out);
    chownSync(out, attacker.uid, attacker.gid);
    const file = join(out, "mc.prom");
    writeFileSync(file, "old\n");
    const r = await runBinary([
      "status",
      "-c",
      changer.conf,
      "--prometheus",
      file,
    ]);
    expect(r).toMatchObject({
      exitCode: 1,
      stdout: "",
      stderr: `magchanger: refusing to write ${file} as root: ${out} is owned by uid ${attacker.uid}, not root; use a directory only root can change, such as /var/lib/prometheus/node-exporter\n`,
    });
    expect(readFileSync(file, "utf8")).toBe("old\n");
  });

  test("check by a user who cannot read the work dir: UNKNOWN on stdout, exit 3", async () => {
    attacker ??= createAttacker();
    makeChanger();
    await changer.init(1, 2);
    chmodSync(changer.workDir, 0o700);
    // okCodes: only exit 3 passes; anything else throws with the output.
    const stdout = attacker.run(
      [binaryForUsers(), "check", "--local", "-c", changer.conf],
      { okCodes: [3] },
    );
    expect(stdout).toStartWith("MAGCHANGER UNKNOWN - ");
    expect(stdout).toContain(changer.workDir);
    expect(existsSync(join(changer.workDir, "config.cache.json"))).toBe(false);
  });
});
