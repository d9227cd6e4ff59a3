// The seed's story on a real kernel, step by step, as the operator lives it: the VM suite asserts
// each step (test/vm/seed.test.ts) and `npm run demo -- --vm` tells it (test/demo/vm.ts). Every
// step checks what it claims from the guest's real state (the kernel's device-mapper table,
// /proc/mounts, the changer's log, the journal of the units udev starts, Bacula's catalog) and
// fails loudly otherwise; say() is what the operator would see, note() a figure worth keeping.
import { expect } from "bun:test";
import { BAY, CONF, Guest, UNLOCK_MS } from "./guest.ts";
import { prepareDisk } from "./host.ts";
import { runReadme } from "./readme.ts";
import { Vm } from "./vm.ts";

const NOTIFIED = "/var/tmp/magchanger-events.jsonl";
/** From a USB plug to the mapping: udev, unlock and the PBKDF under emulation. */
export const ms = (n: number) => `${(n / 1000).toFixed(1)} s`;

export type DiskId = "A" | "B";

export class SeedStory {
  readonly figures: string[] = [];
  private readonly disks: Record<DiskId, string>;
  /** The Full the README's backup made (on disk A). */
  fullJob = 0;

  private constructor(
    readonly vm: Vm,
    readonly guest: Guest,
    readonly say: (line: string) => void,
  ) {
    this.disks = {
      A: vm.newDisk("diskA", 384),
      B: vm.newDisk("diskB", 384),
    };
  }

  /** Builds (or reuses) the image, boots the guest and makes two blank USB disks. */
  static async start(say: (line: string) => void): Promise<SeedStory> {
    const started = Date.now();
    const vm = await Vm.create({ log: say });
    const built = Date.now() - started;
    await vm.boot();
    const story = new SeedStory(vm, new Guest(vm), say);
    story.note(`image ready in ${ms(built)}`);
    story.note(`booted in ${ms(vm.boots[0] ?? 0)}`);
    return story;
  }

  note(line: string): void {
    this.figures.push(line);
    this.say(line);
  }

  /** Plugs disk id in; the guest-clock time of the plug and the disk's node. */
  async plug(id: DiskId): Promise<{ at: number; node: string }> {
    const at = await this.guest.now();
    await this.vm.plug(`disk${id}`, this.disks[id]);
    const node = await this.guest.diskNode(`disk${id}`);
    this.say(`plugged USB disk ${id} (the guest sees ${node})`);
    return { at, node };
  }

  /** 1. The README's "From an empty host to a first backup", as written, on disk A. */
  async firstBackup(): Promise<void> {
    const { node } = await this.plug("A");
    this.say(
      "following the README: setup, the disk prepared, a Full backup and its restore",
    );
    let doctor = "";
    const steps = await runReadme(this.guest, node, {
      onLine: async (c, out) => {
        this.say(`  $ ${c.text.split("\n")[0]}`);
        if (c.text.startsWith("magchanger doctor")) doctor = out;
        if (c.text.startsWith("udevadm trigger"))
          // udev, not the README, opened it: the rule ran unlock.
          expect(await this.guest.dmNames()).toEqual(["bacula"]);
        if (c.text.startsWith("diff -r"))
          expect(out).toContain("restore verified");
      },
    });
    expect(doctor).toMatch(/^All \d+ checks passed\.$/m);
    expect(await this.guest.logLines()).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `unlock\\[\\d+\\] info: opened ${node}1 \\(LUKS UUID [0-9a-f-]+\\) as /dev/mapper/bacula$`,
        ),
      ),
    );
    this.fullJob = Number(
      (
        await this.guest.sql(
          "select max(JobId) from Job where Type='B' and JobStatus='T'",
        )
      )[0]?.[0],
    );
    expect(this.fullJob).toBeGreaterThan(0);
    expect(
      (await this.guest.jobVolumes(this.fullJob)).every((v) =>
        v.startsWith("usbchanger1_0001_"),
      ),
    ).toBe(true);
    const slow = [...steps].sort((a, b) => b.ms - a.ms).slice(0, 4);
    this.note(
      `README section: ${ms(steps.reduce((t, s) => t + s.ms, 0))} (slowest: ${slow.map((s) => `README.md:${s.line} ${ms(s.ms)}`).join(", ")})`,
    );
  }

  /** 2-3. eject, pull, replug: udev unlocks it, the first access mounts it. */
  async replug(): Promise<void> {
    await this.ejectAndPull("A", "Monday");

    const { at } = await this.plug("A");
    await this.guest.waitMapping(
      true,
      "udev opens the replugged disk A",
      UNLOCK_MS,
    );
    this.note(
      `plug to mapping (disk A, no command typed): ${ms((await this.guest.now()) - at)}`,
    );
    const refreshUnit = await this.vm.mustSh(
      "journalctl -o cat -u magchanger-refresh@usbchanger1.service | tail -n 20",
    );
    expect(refreshUnit).toContain(
      "magchanger: tell Bacula about the volumes of changer usbchanger1",
    );
    expect(await this.guest.bayMount()).toBeUndefined();
    const listing = await this.guest.touchBay();
    this.say("the first access to the bay mounted it (autofs)");
    expect(listing.stdout).toContain("usbchanger1_0001_0001");
    const mount = await this.guest.bayMount();
    expect(mount).toMatch(
      /^\/dev\/mapper\/bacula \/mnt\/usbchanger1\/magazine ext4 /,
    );
    for (const option of ["nosuid", "nodev", "noexec", "noatime"])
      expect(mount?.split(" ")[3]?.split(",")).toContain(option);
  }

  /** 4. Disk B prepared as the README says; the Incremental lands on it. */
  async secondDisk(): Promise<void> {
    await this.ejectAndPull("A", "Monday");
    const { node } = await this.plug("B");
    const init = await prepareDisk(this.guest, node, "Tuesday", {
      volumes: 10,
    });
    expect(init).toStartWith('magazine 2 "Tuesday" ');
    this.say(
      `disk B prepared as the README says (sfdisk, luksFormat, udevadm trigger, mkfs.ext4): ${init.split("\n")[0]}`,
    );
    const refresh = await this.guest.magchanger(["refresh", "-c", CONF]);
    expect(refresh.exitCode, refresh.stderr).toBe(0);
    expect(refresh.stdout).toContain(
      'label barcodes storage="usbchanger1" pool="usbchanger1-pool"',
    );
    // Something for the Incremental to carry, so that it writes to the disk at all.
    await this.vm.writeFile(
      "/usr/sbin/magvm-incremental",
      "changed after the Full\n",
    );
    const started = Date.now();
    const job = await this.guest.runJob(
      'run job="usbchanger1-example" level=Incremental yes',
    );
    expect(await this.guest.waitJob(job, 600_000)).toBe("T");
    this.note(`Incremental on disk B: ${ms(Date.now() - started)}`);
    const volumes = await this.guest.jobVolumes(job);
    expect(volumes.length).toBeGreaterThan(0);
    expect(volumes.every((v) => v.startsWith("usbchanger1_0002_"))).toBe(true);
    this.say(
      `Incremental JobId ${job} wrote to ${volumes.join(", ")} on disk B "Tuesday"`,
    );
  }

  /** 5. A restore of the Full waits for disk A, is told, and resumes when A is in. */
  async restoreWaitsForA(): Promise<void> {
    await this.vm.writeFile(
      "/usr/local/bin/record-event",
      "#!/bin/sh\ncat >> " + NOTIFIED + "\necho >> " + NOTIFIED + "\n",
      "0755",
    );
    await this.vm
      .mustSh(`install -o bacula -g bacula -m 0644 /dev/null ${NOTIFIED}
printf '\n[notify]\ncommand = ["/usr/local/bin/record-event"]\n' >> ${CONF}`);
    const job = await this.guest.runJob(
      'restore restorejob="usbchanger1-restore" jobid=' +
        this.fullJob +
        " where=/var/tmp/restore-full all done yes",
    );
    await this.vm.until(
      "the restore blocks waiting for a volume of disk A",
      `echo 'status storage="usbchanger1"' | bconsole | grep -q 'waiting for'`,
      180_000,
      2000,
    );
    this.say(
      `restore JobId ${job} waits for a volume of disk A, which is in the drawer`,
    );
    const eject = await this.guest.magchanger(["eject", "-c", CONF]);
    expect(eject.exitCode, eject.stderr).toBe(0);
    expect(eject.stdout).toEndWith('safe to unplug "Tuesday"\n');
    this.say('magchanger eject (disk B): safe to unplug "Tuesday"');
    const events = (await this.vm.must(["cat", NOTIFIED])).stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map(
        (l) =>
          JSON.parse(l) as {
            kind: string;
            volume?: string;
            slot?: number;
            magazine?: { number: number; name?: string };
          },
      );
    const needed = events.filter((e) => e.kind === "volume-needed");
    expect(needed.length, JSON.stringify(events)).toBe(1);
    expect(needed[0]?.magazine).toMatchObject({ number: 1, name: "Monday" });
    this.say(
      `the notifier was told: Bacula needs volume ${needed[0]?.volume} (slot ${needed[0]?.slot}): attach magazine 1 "Monday"`,
    );
    await this.vm.unplug("diskB");
    const logFrom = await this.guest.logLength();
    const { at } = await this.plug("A");
    expect(await this.guest.waitJob(job, 600_000)).toBe("T");
    const done = await this.guest.now();
    const mount = (await this.guest.logLines(logFrom)).find((l) =>
      /refresh: drive \d waits for usbchanger1_0001_\d+ .*running bconsole: mount /.test(
        l,
      ),
    );
    expect(
      mount,
      (await this.guest.logLines(logFrom)).join("\n"),
    ).toBeDefined();
    const mountAt = Date.parse(mount?.split(" ")[0] ?? "");
    this.note(
      `plug of disk A to the restore's resume (mount sent, in the guest): ${ms(mountAt - at)}; to the restore's end: ${ms(done - at)}`,
    );
    const original = await this.guest.tree("/usr/sbin");
    const restored = await this.guest.tree("/var/tmp/restore-full/usr/sbin");
    expect(restored).toBe(
      original
        .split("\n")
        .filter((l) => !l.endsWith("./magvm-incremental"))
        .join("\n"),
    );
    this.say("the restore ended by itself, every file equal by sha256");
  }

  /** 6. Idle, autofs expires the mount; pulled then, no mapping stays. */
  async idlePull(): Promise<void> {
    const expiry = await this.guest.waitUnmounted(
      "autofs expires the idle disk A",
      120_000,
    );
    this.note(`autofs expiry seen after ${ms(expiry)} idle`);
    expect(await this.guest.dmNames()).toEqual(["bacula"]);
    await this.vm.unplug("diskA");
    await this.guest.waitMapping(
      false,
      "the remove event closes the mapping",
      60_000,
    );
    expect(await this.guest.bayMount()).toBeUndefined();
  }

  /** 7. Pulled without eject: mounted, then after expiry; the next disks still work. */
  async pullsWithoutEject(): Promise<void> {
    await this.reappears("A", "usbchanger1_0001_0001");
    expect(await this.guest.bayMount()).toBeDefined();
    const pulled = await this.guest.now();
    await this.vm.unplug("diskA");
    await this.guest.waitMapping(
      false,
      "the mapping of the pulled, mounted disk A goes",
      120_000,
    );
    await this.guest.waitUnmounted("its dead mount goes", 60_000);
    this.note(
      `pulled while mounted: mount and mapping gone after ${ms((await this.guest.now()) - pulled)}`,
    );

    await this.reappears("A", "usbchanger1_0001_0001");
    // Now after autofs expiry, and another disk next.
    await this.guest.waitUnmounted("autofs expires disk A", 120_000);
    await this.vm.unplug("diskA");
    await this.guest.waitMapping(
      false,
      "the remove event closes the mapping",
      60_000,
    );
    await this.reappears("B", "usbchanger1_0002_0001");
    const list = await this.guest.magchanger(["changer", CONF, "list"]);
    expect(list.stdout).toContain(":usbchanger1_0002_0001\n");
  }

  /** Plugs a disk in and checks it is unlocked and mounted on first access, no command typed. */
  async reappears(id: DiskId, volume: string): Promise<void> {
    const { at } = await this.plug(id);
    await this.guest.waitMapping(true, `udev opens disk ${id}`, UNLOCK_MS);
    await this.vm.until(
      `disk ${id} is mounted on access`,
      `ls -- ${BAY} | grep -qx ${volume}`,
      60_000,
      1000,
    );
    this.note(
      `disk ${id} plugged to listed in the bay: ${ms((await this.guest.now()) - at)}`,
    );
  }

  /** eject, as the operator runs it, then the pull; the bay was mounted or autofs had expired it. */
  async ejectAndPull(id: DiskId, name: string): Promise<void> {
    const mounted = (await this.guest.bayMount()) !== undefined;
    const eject = await this.guest.magchanger(["eject", "-c", CONF]);
    expect(eject.exitCode, eject.stderr).toBe(0);
    expect(eject.stdout).toEndWith(
      mounted
        ? `safe to unplug "${name}"\n`
        : `closed /dev/mapper/bacula, which was open but not mounted\nnothing is mounted in bay 1 (${BAY}): safe to unplug\n`,
    );
    expect(await this.guest.bayMount()).toBeUndefined();
    expect(await this.guest.dmNames()).toEqual([]);
    this.say(`magchanger eject: ${eject.stdout.trim().split("\n").at(-1)}`);
    await this.vm.unplug(`disk${id}`);
    expect(await this.guest.dmNames()).toEqual([]);
    this.say(`pulled disk ${id}: no mount and no mapping left`);
  }

  /** What a failed step needs to be understood, then the guest is gone. */
  async end(failed: boolean): Promise<void> {
    if (failed) this.say(await this.guest.diagnose());
    await this.vm.destroy();
  }
}
