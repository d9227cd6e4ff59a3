// What the VM scenarios read off the guest: the kernel's device-mapper table, its mount table, the
// changer's log, Bacula's catalog; and the few things an operator does there (bconsole, access
// the bay). Every wait is bounded and says what it waited for.
import type { GuestResult } from "./qga.ts";
import { type Vm, VmError } from "./vm.ts";

export const CONF = "/etc/magchanger/usbchanger1.toml";
export const BAY = "/mnt/usbchanger1/magazine";
export const LOG = "/var/log/magchanger/usbchanger1.log";
export const CATALOG = "/var/lib/bacula/bacula.db";
/** How long udev, unlock and the PBKDF may take from a plug to the mapping (waitMapping). */
export const UNLOCK_MS = 90_000;

export class Guest {
  constructor(readonly vm: Vm) {}

  /** Names of the device-mapper devices the guest's kernel has. */
  async dmNames(): Promise<string[]> {
    const r = await this.vm.must([
      "dmsetup",
      "info",
      "-c",
      "--noheadings",
      "-o",
      "name",
    ]);
    return r.stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && l !== "No devices found");
  }

  /** The mount table line of the bay, read from /proc (never stat'ing the bay: that mounts it). */
  async bayMount(): Promise<string | undefined> {
    const r = await this.vm.must(["cat", "/proc/self/mounts"]);
    return r.stdout.split("\n").find((l) => l.split(" ")[1] === BAY);
  }

  /** The first access to the bay, as any program makes it: autofs mounts the disk. */
  async touchBay(): Promise<GuestResult> {
    return this.vm.exec(["ls", "-A", "--", BAY]);
  }

  /** The kernel name of the USB disk whose serial is serial (sda, sdb, ...), waiting for it. */
  async diskNode(serial: string, timeoutMs = 60_000): Promise<string> {
    let node = "";
    await this.vm.until(
      `USB disk ${serial} appears`,
      `test -b "$(readlink -f /dev/disk/by-id/usb-QEMU_QEMU_HARDDISK_${serial}-0:0)"`,
      timeoutMs,
    );
    node = (
      await this.vm.must([
        "readlink",
        "-f",
        `/dev/disk/by-id/usb-QEMU_QEMU_HARDDISK_${serial}-0:0`,
      ])
    ).stdout.trim();
    return node;
  }

  async waitMapping(present: boolean, what: string, timeoutMs: number) {
    return this.vm.until(
      what,
      // By the kernel's list: dmsetup prints "No devices found" when there are none.
      present
        ? "grep -qx bacula /sys/block/dm-*/dm/name 2>/dev/null"
        : "! ls /sys/block | grep -q '^dm-'",
      timeoutMs,
    );
  }

  async waitUnmounted(what: string, timeoutMs: number): Promise<number> {
    return this.vm.until(
      what,
      `! awk '$2 == "${BAY}"' /proc/self/mounts | grep -q .`,
      timeoutMs,
      500,
    );
  }

  /**
   * A SQL query on Bacula's catalog; rows as arrays of fields. The Director writes it meanwhile:
   * a busy timeout, not "database is locked" (seen once, on a host loaded by other tests).
   */
  async sql(query: string): Promise<string[][]> {
    const r = await this.vm.must([
      "sqlite3",
      "-cmd",
      ".timeout 10000",
      "-separator",
      "|",
      CATALOG,
      query,
    ]);
    return r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("|"));
  }

  async jobStatus(jobid: number): Promise<string> {
    return (
      (
        await this.sql(`select JobStatus from Job where JobId=${jobid}`)
      )[0]?.[0] ?? "?"
    );
  }

  /** Waits until the job left the running states; its final status (T: terminated normally). */
  async waitJob(jobid: number, timeoutMs: number): Promise<string> {
    await this.vm.until(
      `job ${jobid} ends`,
      `s=$(sqlite3 -cmd ".timeout 10000" ${CATALOG} "select JobStatus from Job where JobId=${jobid}"); case "$s" in T|E|e|f|A|W) exit 0;; *) exit 1;; esac`,
      timeoutMs,
      1000,
    );
    return this.jobStatus(jobid);
  }

  /** The volumes a job wrote or read (from JobMedia). */
  async jobVolumes(jobid: number): Promise<string[]> {
    return (
      await this.sql(
        `select distinct m.VolumeName from JobMedia j join Media m on m.MediaId=j.MediaId where j.JobId=${jobid} order by 1`,
      )
    ).map((r) => r[0] as string);
  }

  async bconsole(commands: string[], timeoutMs = 300_000): Promise<string> {
    return (
      await this.vm.must(["bconsole"], {
        stdin: `${commands.join("\n")}\nquit\n`,
        timeoutMs,
      })
    ).stdout;
  }

  /** Queues a job through bconsole; its JobId. */
  async runJob(command: string): Promise<number> {
    const out = await this.bconsole([command]);
    const id = /Job queued\. JobId=(\d+)/.exec(out)?.[1];
    if (!id) throw new VmError(`bconsole did not queue "${command}":\n${out}`);
    return Number(id);
  }

  /** The changer log's lines after the first `after` lines. */
  async logLines(after = 0): Promise<string[]> {
    const r = await this.vm.must(["cat", LOG]);
    return r.stdout.split("\n").filter(Boolean).slice(after);
  }

  async logLength(): Promise<number> {
    return (await this.logLines()).length;
  }

  /** The guest's clock, in ms since the epoch (scenario times are measured in the guest). */
  async now(): Promise<number> {
    return Number((await this.vm.must(["date", "+%s%3N"])).stdout.trim());
  }

  /** sha256 of every file below dir, relative names, sorted. */
  async tree(dir: string): Promise<string> {
    return this.vm.mustSh(
      `cd ${dir} && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum`,
    );
  }

  /** Runs magchanger in the guest as root. */
  magchanger(args: string[], timeoutMs = 300_000): Promise<GuestResult> {
    return this.vm.exec(["/usr/local/bin/magchanger", ...args], { timeoutMs });
  }

  /** What a failed scenario needs to be understood: the guest's chain as it stands. */
  async diagnose(): Promise<string> {
    const r = await this.vm
      .sh(
        `echo "== dmsetup"; dmsetup info -c; echo "== mounts"; grep -e usbchanger1 -e mapper /proc/self/mounts
echo "== ${LOG}"; tail -n 60 ${LOG}
echo "== journal (magchanger units, udev, autofs)"; journalctl -b -o short-precise --no-pager -n 80 -u 'magchanger-*' -u systemd-udevd -u autofs
echo "== kernel"; dmesg | tail -n 25
echo "== bacula"; printf 'status dir\nstatus storage="usbchanger1"\nmessages\nquit\n' | timeout 60 bconsole 2>&1 | tail -n 120`,
        { timeoutMs: 60_000 },
      )
      .catch((e: Error) => ({ stdout: "", stderr: e.message }));
    return `vm: guest state:\n${r.stdout}${r.stderr}\n${this.vm.consoleTail(20)}`;
  }
}
