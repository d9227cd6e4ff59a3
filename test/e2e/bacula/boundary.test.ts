// Issue 11 at the Bacula boundary, against a real Bacula 9.6.7 (Director, SD as bacula:tape,
// FD on 127.0.0.1) with the compiled magchanger as Changer Command, on a directory bay (no
// loop disk needed: the boundary is the same). Drive 0 has vchanger 1.0's Archive Device
// WORK_DIR/0 (the mistake); drive 1 is right: labeling runs through drive 1 (drive=1), then
// drive 1 is unmounted so the job has to take drive 0.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../../helpers/capabilities.ts";
import type { Check } from "../../../src/doctor/check.ts";
import { type BaculaHarness, resolveUser, startBacula } from "./harness.ts";
import { magchanger, magchangerBinary } from "./magchanger.ts";
import { Scratch } from "./scratch.ts";

const SUITE = "the Bacula boundary (issue 11) against a real Director";
const NAME = "bnd";
const POOL = "Off Site"; // a space: every name is quoted in bconsole commands

describe.skipIf(
  skipUnless(["bacula", "user:bacula", "group:tape", "exec-as-user"], SUITE),
)(SUITE, () => {
  let scratch: Scratch;
  let bacula: BaculaHarness;
  let conf = "";
  let work = "";
  let base = "";
  const setPool = (pool?: string) =>
    writeFileSync(conf, pool ? `${base}pool = "${pool}"\n` : base, {
      mode: 0o644,
    });
  const doctor = async () => {
    const r = await magchanger([
      "doctor",
      "-c",
      conf,
      "--json",
      "--sd-config",
      join(bacula.root, "bacula-sd.conf"),
      "--dir-config",
      join(bacula.root, "bacula-dir.conf"),
    ]);
    return (JSON.parse(r.stdout) as { checks: Check[] }).checks;
  };
  const pick = (checks: Check[], names: string[]) =>
    checks
      .filter((c) => names.includes(c.name))
      .map((c) => [c.name, c.status, c.message]);

  beforeAll(async () => {
    scratch = Scratch.create("boundary");
    const root = scratch.root;
    const u = resolveUser("bacula", "tape");
    const bay = join(root, "bay");
    work = join(root, "work");
    for (const d of [bay, work, join(root, "log"), join(root, "data")]) {
      mkdirSync(d, { mode: 0o755 });
      chownSync(d, u.uid, u.gid);
    }
    writeFileSync(join(root, "data", "file"), "boundary\n");
    conf = join(root, `${NAME}.toml`);
    bacula = await startBacula({
      filesetDir: join(root, "data"),
      names: { storage: NAME, pool: POOL },
      autochanger: {
        changerCommand: `${magchangerBinary()} changer %c %o %S %a %d`,
        changerDevice: conf,
        drives: [join(work, "0"), join(work, "drive1")],
        maximumChangerWait: 30,
        labelMedia: true,
      },
      sdUser: "bacula",
      sdGroup: "tape",
    });
    base = `name = "${NAME}"\nwork_dir = "${work}"\nlog_file = "${root}/log/${NAME}.log"\nlog_level = "debug"\nuser = "bacula"\ngroup = "tape"\ndrives = 2\n[[magazine]]\npath = "${bay}"\nallow_unmounted = true\n[bacula]\nbconsole = "${bacula.bconsolePath}"\nconfig = "${bacula.bconsoleConfPath}"\nstorage = "${NAME}"\ndrive = 1\ntimeout = 120\n`;
    setPool();
    const init = await magchanger([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "3",
    ]);
    expect(init.exitCode).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await bacula?.stop();
    await scratch?.cleanup();
  });

  test("refresh without a pool warns; a missing Pool fails with the fix and labels nothing; with the pool, refresh labels them", async () => {
    const first = await magchanger(["refresh", "-c", conf], 180_000);
    expect(first).toMatchObject({ exitCode: 0, stderr: "" });
    expect(first.stdout).toBe(
      `Bacula updated (the volumes in the changer changed): update slots storage="${NAME}" drive=1\n` +
        `WARN: 3 volumes are not labeled in Bacula; set [bacula] pool in ${conf} and run \`magchanger refresh -c ${conf}\` (or run \`label barcodes storage="${NAME}" pool=POOL drive=1\` then \`yes\` in bconsole)\n`,
    );
    expect(await bacula.volumes()).toEqual([]);

    setPool("Nope");
    const missing = await magchanger(["refresh", "-c", conf], 180_000);
    expect(missing.exitCode).toBe(8);
    expect(missing.stderr).toBe(
      `magchanger: bconsole reported a failure: Could not find Pool "Nope": ERR=Pool record not found in Catalog.; define Pool "Nope" in bacula-dir.conf (then \`reload\` in bconsole), or set [bacula] pool in ${conf} to a Pool that exists\n`,
    );
    // label barcodes would have fallen back to "Off Site" on its own: it never ran.
    expect(await bacula.volumes()).toEqual([]);

    setPool(POOL);
    const labeled = await magchanger(["refresh", "-c", conf], 180_000);
    expect(labeled).toMatchObject({ exitCode: 0, stderr: "" });
    const changerLog = () =>
      readFileSync(join(scratch.root, "log", `${NAME}.log`), "utf8").slice(
        -6000,
      );
    expect(labeled.stdout, changerLog()).toBe(
      `Bacula updated (a previous update did not finish): update slots storage="${NAME}" drive=1; label barcodes storage="${NAME}" pool="${POOL}" drive=1 slots=1; label barcodes storage="${NAME}" pool="${POOL}" drive=1 slots=2; label barcodes storage="${NAME}" pool="${POOL}" drive=1 slots=3\n`,
    );
    expect(
      (await bacula.volumes()).map((v) => [v.name, v.slot, v.inChanger]),
    ).toEqual([
      [`${NAME}_0001_0001`, 1, true],
      [`${NAME}_0001_0002`, 2, true],
      [`${NAME}_0001_0003`, 3, true],
    ]);
    const again = await magchanger(["refresh", "-c", conf], 180_000);
    expect(again.stdout).toBe(
      "nothing to do: Bacula already has the current view\n",
    );
  }, 300_000);

  test("a volume with content the catalog lacks gets bscan or empty-and-refresh as its fix, never label barcodes; once emptied, refresh labels it", async () => {
    const volume = `${NAME}_0001_0001`;
    // A catalog that lost the volume: its file on the disk still carries the label.
    await bacula.bconsole(`delete volume="${volume}" yes`);
    const lost = await magchanger(["refresh", "-c", conf, "--force"], 180_000);
    expect(lost).toMatchObject({ exitCode: 0, stderr: "" });
    const advice = `1 volume holds data but is not in Bacula's catalog (${volume}): \`label barcodes\` refuses it ("already labeled"), so refresh leaves it alone; to keep its backups, read it into the catalog with bscan (package bacula-bscan); to reuse one, empty its file on the disk (\`truncate -s 0 MOUNT_POINT/VOLUME\`, which erases its backups) and run \`magchanger refresh -c ${conf}\`, which labels it into pool "${POOL}"`;
    expect(lost.stdout).toBe(
      `Bacula updated (forced): update slots storage="${NAME}" drive=1\nWARN: ${advice}\n`,
    );
    expect(pick(await doctor(), ["labels"])).toEqual([
      [
        "labels",
        "warn",
        `1 volume holds data but is not in Bacula's catalog (${volume}): \`label barcodes\` refuses it ("already labeled"), so refresh leaves it alone (at the last refresh)`,
      ],
    ]);
    const list = await magchanger(["magazine", "list", "-c", conf]);
    expect(list.stdout).toEndWith(`WARN: ${advice} (at the last refresh)\n`);

    truncateSync(join(scratch.root, "bay", volume), 0);
    const reused = await magchanger(["refresh", "-c", conf], 180_000);
    expect(reused).toMatchObject({ exitCode: 0, stderr: "" });
    expect(reused.stdout).toBe(
      `Bacula updated (volumes are not labeled in Bacula): update slots storage="${NAME}" drive=1; label barcodes storage="${NAME}" pool="${POOL}" drive=1 slots=1\n`,
    );
    expect((await bacula.volumes()).map((v) => v.name)).toContain(volume);
  }, 300_000);

  test("doctor: the Director answers, reaches the SD, has the pool; drive 0's Archive Device FAILs with the line to set", async () => {
    expect(
      pick(await doctor(), [
        "sd devices",
        "sd password",
        "director",
        "storage",
        "pool",
        "labels",
      ]),
    ).toEqual([
      [
        "sd devices",
        "fail",
        `Device "mc-changer-drive0" (Drive Index 0) in ${join(bacula.root, "bacula-sd.conf")} has Archive Device = ${join(work, "0")}: every load through it fails (the SD would write outside every magazine)`,
      ],
      [
        "sd devices",
        "ok",
        `Device "mc-changer-drive1" (Drive Index 1) opens ${join(work, "drive1")}`,
      ],
      [
        "sd password",
        "ok",
        `Storage "${NAME}" in ${join(bacula.root, "bacula-dir.conf")} and ${join(bacula.root, "bacula-sd.conf")} share a password`,
      ],
      ["director", "ok", "the Director answers `status dir`"],
      [
        "storage",
        "ok",
        `the Director reaches the storage daemon (status storage="${NAME}")`,
      ],
      ["pool", "ok", `the Director has Pool "${POOL}"`],
      [
        "labels",
        "ok",
        "every volume in the changer at the last refresh is labeled in Bacula",
      ],
    ]);
  }, 120_000);

  test("a job through drive 0 (Archive Device WORK_DIR/0): the load fails with the message, and no file appears there", async () => {
    // An unmounted drive is never reserved for a job: drive 0 it is.
    await bacula.bconsole(`unmount storage="${NAME}" drive=1`);
    const jobid = await bacula.runBackup("Full");
    const result = await bacula.waitJob(jobid, { timeoutMs: 120_000 });
    const log = await bacula.jobLog(jobid);
    expect(result.ok, log.join("\n")).toBe(false);
    expect(
      log.some((l) =>
        l.includes(
          `drive 0: the storage daemon's Archive Device is ${join(work, "0")}, not this changer's drive link; set Archive Device = ${join(work, "drive0")} in the Device with Drive Index = 0 (bacula-sd.conf) and restart bacula-sd`,
        ),
      ),
      log.join("\n"),
    ).toBe(true);
    expect(existsSync(join(work, "0"))).toBe(false);
  }, 180_000);

  test("a wrong SD password in the Director: doctor FAILs the storage and the password", async () => {
    const dirConf = join(bacula.root, "bacula-dir.conf");
    const text = readFileSync(dirConf, "utf8");
    const sdPassword = bacula.config.passwords.sd;
    expect(text).toContain(sdPassword);
    writeFileSync(dirConf, text.replaceAll(sdPassword, "wrong-password"));
    await bacula.bconsole("reload");
    const checks = await doctor();
    expect(
      pick(checks, ["sd password", "storage"]).map((c) => c.slice(0, 2)),
    ).toEqual([
      ["sd password", "fail"],
      ["storage", "fail"],
    ]);
    console.info(pick(checks, ["storage"])[0]?.[2]);
  }, 120_000);
});
