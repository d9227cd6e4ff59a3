// The rotation test's opt-in peer (MAGCHANGER_ROTATION_PEER=disk-changer): the same Full of the
// same data and its restore, through Bacula's own disk-changer script on a plain directory of
// slot files, in a Bacula of its own, for a job-time ratio. disk-changer cannot swap disks, so
// only the Full and its restore are compared.
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ProcessCost, processCost } from "./changer-time.ts";
import { startBacula } from "./harness.ts";
import type { Scratch } from "./scratch.ts";

export const PEER_ENV = "MAGCHANGER_ROTATION_PEER";
export const DISK_CHANGER = "/etc/bacula/scripts/disk-changer";

export interface PeerJobs {
  full: number;
  restoreFull: number;
  lines: string[];
}

/** Runs the Full and its restore through disk-changer; returns job times (ms) and report lines. */
export async function diskChangerJobs(
  scratch: Scratch,
  dataDir: string,
  volumeBytes: string,
  ids: { uid: number; gid: number },
  slots = 9,
): Promise<PeerJobs> {
  const dir = join(scratch.root, "disk-changer");
  mkdirSync(dir, { mode: 0o755 });
  const conf = join(dir, "conf");
  writeFileSync(conf, `maxslot=${slots}\nmaxdrive=1\n`);
  const barcodes: string[] = [];
  for (let slot = 1; slot <= slots; slot++) {
    barcodes.push(`${slot}:dcrot_${String(slot).padStart(4, "0")}`);
    writeFileSync(join(dir, `slot${slot}`), "");
  }
  writeFileSync(join(dir, "barcodes"), `${barcodes.join("\n")}\n`);
  for (const name of ["", "conf", "barcodes"])
    chownSync(join(dir, name), ids.uid, ids.gid);
  for (let slot = 1; slot <= slots; slot++)
    chownSync(join(dir, `slot${slot}`), ids.uid, ids.gid);
  const bacula = await startBacula({
    filesetDir: dataDir,
    names: { storage: "dcrot" },
    autochanger: {
      changerCommand: `${DISK_CHANGER} %c %o %S %a %d`,
      changerDevice: conf,
      drives: [join(dir, "drive0"), join(dir, "drive1")],
      maximumChangerWait: 60,
    },
    maximumVolumeBytes: volumeBytes,
    sdUser: "bacula",
    sdGroup: "tape",
  });
  try {
    await bacula.labelBarcodes();
    const timed = async (start: () => Promise<number>) => {
      const t0 = performance.now();
      const result = await bacula.waitJob(await start(), {
        timeoutMs: 240_000,
      });
      if (!result.ok)
        throw new Error(
          `disk-changer job ${result.jobid}: ${result.statusText}`,
        );
      return { ms: performance.now() - t0, jobid: result.jobid };
    };
    const full = await timed(() => bacula.runBackup("Full"));
    const restore = await timed(() =>
      bacula.runRestore([full.jobid], join(scratch.root, "restore-dc")),
    );
    const cost: ProcessCost = processCost(
      [DISK_CHANGER, conf, "loaded", "0", join(dir, "drive0"), "0"],
      ids,
    );
    const call = `one disk-changer call (loaded) ${cost.wallMs.toFixed(0)} ms wall / ${cost.cpuMs.toFixed(0)} ms CPU (median of ${cost.runs})`;
    return {
      full: full.ms,
      restoreFull: restore.ms,
      lines: [
        `disk-changer full: job ${(full.ms / 1000).toFixed(1)} s; ${call}`,
        `disk-changer restoreFull: job ${(restore.ms / 1000).toFixed(1)} s`,
      ],
    };
  } finally {
    await bacula.stop();
  }
}
