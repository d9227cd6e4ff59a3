// Issue 18: the seed's chain with nothing faked. A Debian 12 guest (its stock kernel, systemd,
// udev, dm-crypt, autofs, Bacula 9.6.7) under QEMU; two USB disks plugged in and pulled out
// through QMP as a person would. Each step is asserted from the guest's real state: the kernel's
// device-mapper table, /proc/mounts, the changer's log, the journal of the units udev starts,
// Bacula's catalog. The steps build on each other, in order, in one boot.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless } from "../helpers/capabilities.ts";
import { BAY, CONF, Guest } from "./guest.ts";
import { diskPreparation, runReadme } from "./readme.ts";
import { Vm } from "./vm.ts";

const SUITE = "the seed's chain on a real kernel (QEMU guest, USB disks)";
const NOTIFIED = "/var/tmp/magchanger-events.jsonl";
/** From a USB plug to the mapping: udev, unlock and the PBKDF under emulation. */
const UNLOCK_MS = 90_000;
const ms = (n: number) => `${(n / 1000).toFixed(1)} s`;

describe.skipIf(skipUnless(["vm"], SUITE))(SUITE, () => {
  let vm: Vm;
  let guest: Guest;
  const disks: Record<string, string> = {};
  let fullJob = 0;
  /** Tests that reached their end; the guest's state is printed when one did not. */
  let passed = 0;
  const times: string[] = [];
  const note = (line: string) => {
    times.push(line);
    console.info(`vm: ${line}`);
  };

  beforeAll(async () => {
    const started = Date.now();
    vm = await Vm.create();
    note(`image ready in ${ms(Date.now() - started)}`);
    await vm.boot();
    note(`booted in ${ms(vm.boots[0] ?? 0)}`);
    guest = new Guest(vm);
    disks.A = vm.newDisk("diskA", 384);
    disks.B = vm.newDisk("diskB", 384);
  }, 900_000);

  afterAll(async () => {
    console.info(`vm: figures:\n  ${times.join("\n  ")}`);
    if (passed < 6 && vm) console.info(await guest.diagnose());
    await vm?.destroy();
  });

  /** Plugs disk id and returns the guest-clock time of the plug and the disk's node. */
  async function plug(id: "A" | "B"): Promise<{ at: number; node: string }> {
    const at = await guest.now();
    await vm.plug(`disk${id}`, disks[id] as string);
    return { at, node: await guest.diskNode(`disk${id}`) };
  }

  test("1. the README's first backup runs as written on a USB disk, ending in a verified restore", async () => {
    const { node } = await plug("A");
    let doctor = "";
    const steps = await runReadme(guest, node, async (c, out) => {
      if (c.text.startsWith("magchanger doctor")) doctor = out;
      if (c.text.startsWith("udevadm trigger"))
        // udev, not the README, opened it: the rule ran unlock.
        expect(await guest.dmNames()).toEqual(["bacula"]);
      if (c.text.startsWith("diff -r"))
        expect(out).toContain("restore verified");
    });
    expect(doctor).toMatch(/^All \d+ checks passed\.$/m);
    expect(await guest.logLines()).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `unlock\\[\\d+\\] info: opened ${node}1 \\(LUKS UUID [0-9a-f-]+\\) as /dev/mapper/bacula$`,
        ),
      ),
    );
    fullJob = Number(
      (
        await guest.sql(
          "select max(JobId) from Job where Type='B' and JobStatus='T'",
        )
      )[0]?.[0],
    );
    expect(fullJob).toBeGreaterThan(0);
    expect(
      (await guest.jobVolumes(fullJob)).every((v) =>
        v.startsWith("usbchanger1_0001_"),
      ),
    ).toBe(true);
    const slow = [...steps].sort((a, b) => b.ms - a.ms).slice(0, 4);
    note(
      `README section: ${ms(steps.reduce((t, s) => t + s.ms, 0))} (slowest: ${slow.map((s) => `README.md:${s.line} ${ms(s.ms)}`).join(", ")})`,
    );
    passed++;
  }, 900_000);

  test("2-3. eject says safe to unplug; once pulled the mount and the mapping are gone; replugged, udev unlocks it with no command and the first access mounts it", async () => {
    await ejectAndPull("A", "Monday");

    const { at } = await plug("A");
    await guest.waitMapping(true, "udev opens the replugged disk A", UNLOCK_MS);
    note(
      `plug to mapping (disk A, no command typed): ${ms((await guest.now()) - at)}`,
    );
    const refreshUnit = await vm.mustSh(
      "journalctl -o cat -u magchanger-refresh@usbchanger1.service | tail -n 20",
    );
    expect(refreshUnit).toContain(
      "magchanger: tell Bacula about the volumes of changer usbchanger1",
    );
    expect(await guest.bayMount()).toBeUndefined();
    const listing = await guest.touchBay();
    expect(listing.stdout).toContain("usbchanger1_0001_0001");
    const mount = await guest.bayMount();
    expect(mount).toMatch(
      /^\/dev\/mapper\/bacula \/mnt\/usbchanger1\/magazine ext4 /,
    );
    for (const option of ["nosuid", "nodev", "noexec", "noatime"])
      expect(mount?.split(" ")[3]?.split(",")).toContain(option);
    passed++;
  }, 600_000);

  test("4. disk B, prepared as the README says, gets the Incremental", async () => {
    await ejectAndPull("A", "Monday");
    const { node } = await plug("B");
    for (const line of diskPreparation())
      await vm.mustSh(line.replaceAll("/dev/sdX", node), {
        timeoutMs: 300_000,
      });
    const init = await guest.magchanger([
      "magazine",
      "init",
      "-c",
      CONF,
      "1",
      "--volumes",
      "10",
      "--name",
      "Tuesday",
    ]);
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toStartWith('magazine 2 "Tuesday" ');
    const refresh = await guest.magchanger(["refresh", "-c", CONF]);
    expect(refresh.exitCode, refresh.stderr).toBe(0);
    expect(refresh.stdout).toContain(
      'label barcodes storage="usbchanger1" pool="usbchanger1-pool"',
    );
    // Something for the Incremental to carry, so that it writes to the disk at all.
    await vm.writeFile(
      "/usr/sbin/magvm-incremental",
      "changed after the Full\n",
    );
    const started = Date.now();
    const job = await guest.runJob(
      'run job="usbchanger1-example" level=Incremental yes',
    );
    expect(await guest.waitJob(job, 600_000)).toBe("T");
    note(`Incremental on disk B: ${ms(Date.now() - started)}`);
    const volumes = await guest.jobVolumes(job);
    expect(volumes.length).toBeGreaterThan(0);
    expect(volumes.every((v) => v.startsWith("usbchanger1_0002_"))).toBe(true);
    passed++;
  }, 900_000);

  test("5. a restore of the Full waits for disk A; the notifier names it; B out, A in: it resumes with no command typed and verifies by sha256", async () => {
    await vm.writeFile(
      "/usr/local/bin/record-event",
      "#!/bin/sh\ncat >> " + NOTIFIED + "\necho >> " + NOTIFIED + "\n",
      "0755",
    );
    await vm.mustSh(`install -o bacula -g bacula -m 0644 /dev/null ${NOTIFIED}
printf '\n[notify]\ncommand = ["/usr/local/bin/record-event"]\n' >> ${CONF}`);
    const job = await guest.runJob(
      'restore restorejob="usbchanger1-restore" jobid=' +
        fullJob +
        " where=/var/tmp/restore-full all done yes",
    );
    await vm.until(
      "the restore blocks waiting for a volume of disk A",
      `echo 'status storage="usbchanger1"' | bconsole | grep -q 'waiting for'`,
      180_000,
      2000,
    );
    const eject = await guest.magchanger(["eject", "-c", CONF]);
    expect(eject.exitCode, eject.stderr).toBe(0);
    expect(eject.stdout).toEndWith('safe to unplug "Tuesday"\n');
    const events = (await vm.must(["cat", NOTIFIED])).stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map(
        (l) =>
          JSON.parse(l) as {
            kind: string;
            magazine?: { number: number; name?: string };
          },
      );
    const needed = events.filter((e) => e.kind === "volume-needed");
    expect(needed.length, JSON.stringify(events)).toBe(1);
    expect(needed[0]?.magazine).toMatchObject({ number: 1, name: "Monday" });
    await vm.unplug("diskB");
    const logFrom = await guest.logLength();
    const { at } = await plug("A");
    expect(await guest.waitJob(job, 600_000)).toBe("T");
    const done = await guest.now();
    const mount = (await guest.logLines(logFrom)).find((l) =>
      /refresh: drive \d waits for usbchanger1_0001_\d+ .*running bconsole: mount /.test(
        l,
      ),
    );
    expect(mount, (await guest.logLines(logFrom)).join("\n")).toBeDefined();
    const mountAt = Date.parse(mount?.split(" ")[0] ?? "");
    note(
      `plug of disk A to the restore's resume (mount sent, in the guest): ${ms(mountAt - at)}; to the restore's end: ${ms(done - at)}`,
    );
    const original = await guest.tree("/usr/sbin");
    const restored = await guest.tree("/var/tmp/restore-full/usr/sbin");
    expect(restored).toBe(
      original
        .split("\n")
        .filter((l) => !l.endsWith("./magvm-incremental"))
        .join("\n"),
    );
    passed++;
  }, 900_000);

  test("6. left idle, autofs unmounts it; pulled then, the udev remove event leaves no mapping", async () => {
    const expiry = await guest.waitUnmounted(
      "autofs expires the idle disk A",
      120_000,
    );
    note(`autofs expiry seen after ${ms(expiry)} idle`);
    expect(await guest.dmNames()).toEqual(["bacula"]);
    await vm.unplug("diskA");
    await guest.waitMapping(
      false,
      "the remove event closes the mapping",
      60_000,
    );
    expect(await guest.bayMount()).toBeUndefined();
    passed++;
  }, 300_000);

  test("7. pulled without eject while mounted and idle: the chain removes the dead mount and the mapping; the same disk, then another, are unlocked and mounted with no command typed", async () => {
    await plug("A");
    await guest.waitMapping(true, "udev opens disk A", UNLOCK_MS);
    expect((await guest.touchBay()).stdout).toContain("usbchanger1_0001_0001");
    expect(await guest.bayMount()).toBeDefined();
    const pulled = await guest.now();
    await vm.unplug("diskA");
    await guest.waitMapping(
      false,
      "the mapping of the pulled, mounted disk A goes",
      120_000,
    );
    await guest.waitUnmounted("its dead mount goes", 60_000);
    note(
      `pulled while mounted: mount and mapping gone after ${ms((await guest.now()) - pulled)}`,
    );

    await reappears("A", "usbchanger1_0001_0001");
    // Now after autofs expiry, and another disk next.
    await guest.waitUnmounted("autofs expires disk A", 120_000);
    await vm.unplug("diskA");
    await guest.waitMapping(
      false,
      "the remove event closes the mapping",
      60_000,
    );
    await reappears("B", "usbchanger1_0002_0001");
    const list = await guest.magchanger(["changer", CONF, "list"]);
    expect(list.stdout).toContain(":usbchanger1_0002_0001\n");
    passed++;
  }, 600_000);

  /** Plugs a disk in and checks it is unlocked and mounted on first access, no command typed. */
  async function reappears(id: "A" | "B", volume: string): Promise<void> {
    const { at } = await plug(id);
    await guest.waitMapping(true, `udev opens disk ${id}`, UNLOCK_MS);
    await vm.until(
      `disk ${id} is mounted on access`,
      `ls -- ${BAY} | grep -qx ${volume}`,
      60_000,
      1000,
    );
    note(
      `disk ${id} plugged to listed in the bay: ${ms((await guest.now()) - at)}`,
    );
  }

  /** eject, as the operator runs it, then the pull; the bay was mounted or autofs had expired it. */
  async function ejectAndPull(id: "A" | "B", name: string): Promise<void> {
    const mounted = (await guest.bayMount()) !== undefined;
    const eject = await guest.magchanger(["eject", "-c", CONF]);
    expect(eject.exitCode, eject.stderr).toBe(0);
    expect(eject.stdout).toEndWith(
      mounted
        ? `safe to unplug "${name}"\n`
        : `closed /dev/mapper/bacula, which was open but not mounted\nnothing is mounted in bay 1 (${BAY}): safe to unplug\n`,
    );
    expect(await guest.bayMount()).toBeUndefined();
    expect(await guest.dmNames()).toEqual([]);
    await vm.unplug(`disk${id}`);
    expect(await guest.dmNames()).toEqual([]);
  }
});
