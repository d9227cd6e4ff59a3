// Proves the Bacula harness with Bacula's own file storage (no changer): a Full backup of ~20 MB
// over several auto-labeled volumes, restored and compared file by file. And that the harness's
// changer drives behave as the ones `magchanger setup` writes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directive, parseBaculaConf } from "../../../src/bacula/conf.ts";
import { parseConfigText } from "../../../src/config/load.ts";
import { sdStanza } from "../../../src/setup/bacula.ts";
import { storageDaemonConf } from "./configs.ts";
import { diffManifests, generateTree, hashTree } from "./files.ts";
import { skipUnless } from "../../helpers/capabilities.ts";
import { type BaculaHarness, startBacula } from "./harness.ts";

test("the harness's changer drives carry the Device directives setup writes that change how the SD treats a volume", () => {
  const config = parseConfigText(
    `name = "c1"\ndrives = 2\n[[magazine]]\npath = "/mnt/c1/magazine"\n`,
    "/etc/magchanger/c1.toml",
  );
  const setup = parseBaculaConf(
    sdStanza({
      config,
      configPath: "/etc/magchanger/c1.toml",
      binary: "/usr/local/bin/magchanger",
      mediaType: "c1",
    }),
    "setup",
  ).filter((r) => r.type === "device");
  const harness = parseBaculaConf(
    storageDaemonConf({
      root: "/tmp/h",
      ports: { dir: 1, sd: 2, fd: 3 },
      passwords: { console: "a", sd: "b", fd: "c" },
      names: {
        director: "d",
        storageDaemon: "s",
        fileDaemon: "f",
        storage: "c1",
        sdDevice: "c1",
        pool: "p",
        catalog: "k",
        fileset: "fs",
        backupJob: "b",
        restoreJob: "r",
      },
      mediaType: "c1",
      maximumVolumeBytes: undefined,
      labelFormat: undefined,
      filesetDir: "/data",
      restoreDir: "/restore",
      storage: {
        changerCommand: "magchanger changer %c %o %S %a %d",
        changerDevice: "/etc/magchanger/c1.toml",
        drives: ["/w/drive0", "/w/drive1"],
      },
    }),
    "harness",
  ).filter((r) => r.type === "device");
  const shared = [
    "Device Type",
    "Autochanger",
    "Removable Media",
    "Random Access",
    "Automatic Mount",
    "Label Media",
    "Always Open",
  ];
  const pick = (r: (typeof setup)[number]) =>
    shared.map((d) => [d, directive(r, d)]);
  expect(harness).toHaveLength(2);
  expect(harness.map(pick)).toEqual(setup.map(pick));
});

const SUITE = "bacula harness with plain file storage";

describe.skipIf(skipUnless(["bacula"], SUITE))(SUITE, () => {
  let scratch = "";
  let bacula: BaculaHarness | undefined;
  const dataDir = () => join(scratch, "data");

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "magchanger-bacula-data-"));
    generateTree(dataDir(), 20 * 1024 * 1024);
    bacula = await startBacula({
      filesetDir: dataDir(),
      maximumVolumeBytes: "8M",
    });
  }, 60_000);

  afterAll(async () => {
    await bacula?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("a Full backup over several volumes restores every file with the same sha256", async () => {
    const b = bacula as BaculaHarness;
    const t0 = performance.now();
    const backup = await b.waitJob(await b.runBackup("Full"));
    const t1 = performance.now();
    const backupLog = (await b.jobLog(backup.jobid)).join("\n");
    expect(backup, backupLog).toMatchObject({ status: "T", ok: true });
    expect(backupLog).toMatch(/Termination:\s+Backup OK/);
    // 20 MB over 8 MB volumes: the SD had to label and mount more than one.
    expect(backupLog).toMatch(
      /Volume name\(s\):\s+Vol-0001\|Vol-0002\|Vol-0003/,
    );

    const restore = await b.waitJob(await b.runRestore([backup.jobid]));
    const t2 = performance.now();
    const restoreLog = (await b.jobLog(restore.jobid)).join("\n");
    expect(restore, restoreLog).toMatchObject({ status: "T", ok: true });
    expect(restoreLog).toMatch(/Termination:\s+Restore OK/);

    // Bacula restores to Where + the original absolute path.
    const problems = diffManifests(
      hashTree(dataDir()),
      hashTree(join(b.restoreDir, dataDir())),
    );
    expect(problems).toEqual([]);
    console.info(
      `bacula harness: backup ${Math.round(t1 - t0)} ms, restore ${Math.round(t2 - t1)} ms`,
    );
  }, 120_000);
});
