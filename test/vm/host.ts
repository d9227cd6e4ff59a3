// A guest set up the README's way, for scenarios that start after it: the host part of "From an
// empty host to a first backup" as written (setup --write, the daemons reloaded, the timer), disks
// prepared with the README's own lines, and a backup job big enough to pull a disk in the middle.
import { expect } from "bun:test";
import { CONF, type Guest } from "./guest.ts";
import { diskPreparation, runReadme } from "./readme.ts";

/** The README's host setup, up to (not including) the preparation of the first disk. */
export async function prepareHost(guest: Guest): Promise<void> {
  await runReadme(guest, "/dev/sdX", {
    stopBefore: (c) => c.comment && c.text.startsWith("# each disk"),
  });
}

/**
 * The README's lines for one disk, then magazine init. keepReserve: mkfs's default 5% for root
 * instead of the README's -m 0 (the how-to's bug).
 */
export async function prepareDisk(
  guest: Guest,
  node: string,
  name: string,
  options: { volumes?: number; keepReserve?: boolean } = {},
): Promise<string> {
  for (const line of diskPreparation()) {
    const text = line.replaceAll("/dev/sdX", node);
    await guest.vm.mustSh(
      options.keepReserve ? text.replace(" -m 0 ", " ") : text,
      { timeoutMs: 300_000 },
    );
  }
  const init = await guest.magchanger([
    "magazine",
    "init",
    "-c",
    CONF,
    "1",
    "--volumes",
    String(options.volumes ?? 4),
    "--name",
    name,
  ]);
  expect(init.exitCode, init.stderr).toBe(0);
  return init.stdout;
}

export const BIG_JOB = "fault-big";
/** Shell: the Director's (Debian's only) Client, as $client. */
const CLIENT = `client=$(awk '/^Client *\\{/{c=1} c && /Name *=/{sub(/.*Name *= *"?/, ""); sub(/"?[ ]*$/, ""); print; exit}' /etc/bacula/bacula-dir.conf)`;
export const BIG_DATA = "/var/tmp/fault-data";

/** A Full backup Job of BIG_JOB's FileSet into pool, for a heredoc where $client is set (CLIENT). */
function backupJob(
  name: string,
  pool: string,
  bootstrap: string,
  extra?: string,
): string {
  return `Job {
  Name = "${name}"
  Type = Backup
  Level = Full
  Client = "$client"
  FileSet = "${BIG_JOB}"
  Schedule = "WeeklyCycle"
  Storage = "usbchanger1"
  Pool = "${pool}"
  Messages = Standard
  Priority = 10${extra ? `\n  ${extra}` : ""}
  Write Bootstrap = "/var/lib/bacula/${bootstrap}"
}`;
}

/**
 * A Job backing up sizeMiB of random data (nothing compresses it), in the README's pool: long
 * enough under emulation to pull the disk while the storage daemon writes.
 */
export async function addBigJob(guest: Guest, sizeMiB: number): Promise<void> {
  await guest.vm.mustSh(
    `mkdir -p ${BIG_DATA} && head -c ${sizeMiB}M /dev/urandom > ${BIG_DATA}/random.bin
${CLIENT}
cat > /etc/bacula/magchanger-faults-dir.conf <<EOF
FileSet {
  Name = "${BIG_JOB}"
  Include {
    Options { signature = MD5 }
    File = ${BIG_DATA}
  }
}
${backupJob(BIG_JOB, "usbchanger1-pool", "%c.bsr")}
EOF
grep -q magchanger-faults-dir.conf /etc/bacula/bacula-dir.conf || echo "@/etc/bacula/magchanger-faults-dir.conf" >> /etc/bacula/bacula-dir.conf
bacula-dir -t -c /etc/bacula/bacula-dir.conf
echo reload | bconsole >/dev/null`,
    { timeoutMs: 300_000 },
  );
}

/**
 * A second pool, and two jobs like BIG_JOB, one in each pool (two drives write at once only for
 * two pools), each held to 8 MB/s: unthrottled, the guest writes 150 MiB in 3 to 6 s, too short
 * for a status poll to see both drives writing.
 */
export async function addSecondPoolJob(guest: Guest): Promise<void> {
  await guest.vm.mustSh(
    `${CLIENT}
cat >> /etc/bacula/magchanger-faults-dir.conf <<EOF
Pool {
  Name = "usbchanger1-pool2"
  Pool Type = Backup
  Storage = "usbchanger1"
  Recycle = yes
  AutoPrune = yes
  Volume Retention = 365 days
}
${backupJob("fault-one", "usbchanger1-pool", "%c-one.bsr", "Maximum Bandwidth = 8 mb/s")}
${backupJob("fault-two", "usbchanger1-pool2", "%c-two.bsr", "Maximum Bandwidth = 8 mb/s")}
EOF
# A Client runs one job at a time unless told otherwise (Bacula's default, and Debian's config).
grep -q 'Maximum Concurrent Jobs = 4 # magvm' /etc/bacula/bacula-dir.conf ||
  sed -i '/^Client {/a\\  Maximum Concurrent Jobs = 4 # magvm' /etc/bacula/bacula-dir.conf
bacula-dir -t -c /etc/bacula/bacula-dir.conf
echo reload | bconsole >/dev/null`,
  );
}
