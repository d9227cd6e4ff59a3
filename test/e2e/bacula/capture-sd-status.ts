// Captures real `status storage=S` outputs of Bacula 9.6.7 as fixtures for the SD status parser
// (test/bacula/fixtures/sd-status-*.txt). Run as root: bun test/e2e/bacula/capture-sd-status.ts
// Two ext4 loop disks through one bay (scratch.mount stands in for udev+autofs: this kernel has
// neither autofs nor device-mapper), the compiled magchanger as the SD's changer, two drives.
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateTree } from "./files.ts";
import { resolveUser, startBacula } from "./harness.ts";
import { magchangerBinary, magchangerOk, makeDisk } from "./magchanger.ts";
import { Scratch } from "./scratch.ts";

const OUT = join(import.meta.dir, "..", "..", "bacula", "fixtures");
const NAME = "mccap";
await using scratch = Scratch.create("capture");
const root = scratch.root;
const bu = resolveUser("bacula", "tape");
const bay = join(root, "bay");
const dataDir = join(root, "data");
const workDir = join(root, "work");
const logDir = join(root, "log");
for (const d of [bay, workDir, logDir]) mkdirSync(d, { mode: 0o755 });
chownSync(workDir, bu.uid, bu.gid);
chownSync(logDir, bu.uid, bu.gid);
generateTree(dataDir, 120 * 1000 * 1000);
const conf = join(root, `${NAME}.toml`);
await using bacula = await startBacula({
  filesetDir: dataDir,
  names: { storage: NAME },
  autochanger: {
    changerCommand: `${magchangerBinary()} changer %c %o %S %a %d`,
    changerDevice: conf,
    drives: [join(workDir, "drive0"), join(workDir, "drive1")],
    maximumChangerWait: 60,
  },
  maximumVolumeBytes: "30M",
  sdUser: "bacula",
  sdGroup: "tape",
});
writeFileSync(
  conf,
  `name = "${NAME}"\nwork_dir = "${workDir}"\nlog_file = "${join(logDir, "c.log")}"\nuser = "bacula"\ngroup = "tape"\ndrives = 2\n\n[[magazine]]\npath = "${bay}"\n\n[bacula]\nbconsole = "${bacula.bconsolePath}"\nconfig = "${bacula.bconsoleConfPath}"\nstorage = "${NAME}"\npool = "${bacula.names.pool}"\ndrive = 0\ntimeout = 120\n`,
  { mode: 0o644 },
);
const A = await makeDisk(scratch, "mccapA", 300, bu);
const B = await makeDisk(scratch, "mccapB", 100, bu);
await scratch.mount(B.device, bay, "rw,nodev,nosuid,noatime");
await magchangerOk(["magazine", "init", "-c", conf, "1", "--volumes", "2"]);
await scratch.unmount(bay);
await scratch.mount(A.device, bay, "rw,nodev,nosuid,noatime");
await magchangerOk(["magazine", "init", "-c", conf, "1", "--volumes", "6"]);
await bacula.labelBarcodes();
const status = () => bacula.bconsole(`status storage="${NAME}"`);
const save = (name: string, text: string) => {
  writeFileSync(join(OUT, `sd-status-${name}.txt`), text);
  console.info(`saved ${name}`);
};
save("idle", await status());

/** Polls status storage while a job runs; saves the first output matching re. */
async function during(jobid: number, name: string, re: RegExp) {
  let saved = false;
  for (let i = 0; i < 600 && !saved; i++) {
    const s = await status();
    if (re.test(s)) {
      save(name, s);
      saved = true;
    }
    if (
      !new RegExp(`JobId=${jobid} `).test(s.split("Terminated Jobs")[0] ?? "")
    ) {
      if (i > 20) break;
      await Bun.sleep(200);
    }
  }
  if (!saved) console.warn(`no ${name} capture`);
}

const full = await bacula.runBackup("Full");
await during(full, "writing", /Writing: [\s\S]*is mounted with/);
console.info(await bacula.waitJob(full));
save("after-backup", await status());
const restore = await bacula.runRestore([full], join(root, "r1"));
await during(restore, "reading", /Reading: [\s\S]*is mounted with/);
console.info(await bacula.waitJob(restore));
save("after-jobs", await status());

// The disk swap: B in the bay, refresh, a restore of A's job waits for a mount.
await scratch.unmount(bay);
await scratch.mount(B.device, bay, "rw,nodev,nosuid,noatime");
await magchangerOk(["refresh", "-c", conf], 180_000);
const waiting = await bacula.runRestore([full], join(root, "r2"));
await during(waiting, "blocked-mount", /BLOCKED waiting for mount/);
// Swap back; update slots; mount: the restore continues.
await scratch.unmount(bay);
await scratch.mount(A.device, bay, "rw,nodev,nosuid,noatime");
await magchangerOk(["refresh", "-c", conf], 180_000);
save("blocked-after-refresh", await status());
const m =
  /Device File: "([^"]*)" \([^)]*drive(\d)\)[^\n]*\n(?:[^\n]*\n){0,3}?\s*Device is BLOCKED/.exec(
    await status(),
  );
console.info("blocked drive", m?.[2]);
console.info(
  await bacula.bconsole(`mount storage="${NAME}" drive=${m?.[2] ?? 0}`),
);
console.info(await bacula.waitJob(waiting, { stuckMs: 60_000 }));

// A backup that fills disk B: waits for an appendable volume.
await scratch.unmount(bay);
await scratch.mount(B.device, bay, "rw,nodev,nosuid,noatime");
await magchangerOk(["refresh", "-c", conf], 180_000);
await bacula
  .bconsole(`update volume=${NAME}_0001_0006 volstatus=Used`)
  .catch(String);
const fill = await bacula.runBackup("Full");
await during(
  fill,
  "blocked-append",
  /BLOCKED waiting (?!for mount of volume "mccap_0002)/,
);
console.info(await bacula.bconsole(`cancel jobid=${fill} yes`).catch(String));
await Bun.sleep(2000);
