// Issue 20: the faults of removable disks on the real chain (QEMU guest, USB disks): pulled at
// the wrong moment, power cut, and what else a real bay meets. One boot for the suite (power cuts
// boot the same overlay again); the guest is set up the README's way (host.ts). Random choices
// are seeded: the seed is printed, MAGCHANGER_TEST_SEED replays it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless } from "../helpers/capabilities.ts";
import { seededRandom } from "../helpers/random.ts";
import { CONF, Guest } from "./guest.ts";
import { addBigJob, prepareDisk, prepareHost } from "./host.ts";
import {
  expectSlotsKept,
  installWorkload,
  interrupted,
  NOTIFY_LOG,
  REGISTRY,
  registryMap,
  STAGE,
  startWorkload,
} from "./power.ts";
import { ms } from "./story.ts";
import { Vm } from "./vm.ts";

const SUITE = "faults of removable disks on a real kernel (QEMU guest)";
/** CI runs a few; MAGCHANGER_POWER_CUTS=30 is the documented larger run. */
const CUTS = Number(process.env.MAGCHANGER_POWER_CUTS ?? 5);
const UNLOCK_MS = 90_000;

describe.skipIf(skipUnless(["vm"], SUITE))(SUITE, () => {
  let vm: Vm;
  let guest: Guest;
  const images: Record<string, string> = {};
  const figures: string[] = [];
  let failed = false;
  const note = (line: string) => {
    figures.push(line);
    console.info(`vm: ${line}`);
  };
  const seed = Number(
    process.env.MAGCHANGER_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31),
  );
  const random = seededRandom(seed);

  async function plug(id: string): Promise<string> {
    images[id] ??= vm.newDisk(id, 384);
    await vm.plug(id, images[id] as string);
    return guest.diskNode(id);
  }

  async function ejectAndPull(id: string): Promise<void> {
    const r = await guest.magchanger(["eject", "-c", CONF]);
    expect(r.exitCode, r.stderr).toBe(0);
    await vm.unplug(id);
  }

  const guarded =
    (run: () => Promise<void>): (() => Promise<void>) =>
    async () => {
      try {
        await run();
      } catch (error) {
        failed = true;
        throw error;
      }
    };

  beforeAll(
    guarded(async () => {
      vm = await Vm.create();
      await vm.boot();
      guest = new Guest(vm);
      const started = Date.now();
      await prepareHost(guest);
      await addBigJob(guest, 200);
      await prepareDisk(guest, await plug("diskA"), "Monday");
      await ejectAndPull("diskA");
      await prepareDisk(guest, await plug("diskB"), "Tuesday");
      await ejectAndPull("diskB");
      await plug("diskA");
      await guest.waitMapping(true, "udev opens disk A", UNLOCK_MS);
      const refresh = await guest.magchanger(["refresh", "-c", CONF]);
      expect(refresh.exitCode, refresh.stderr).toBe(0);
      note(`host and two disks set up in ${ms(Date.now() - started)}`);
    }),
    900_000,
  );

  afterAll(async () => {
    console.info(`vm: figures:\n  ${figures.join("\n  ")}`);
    if (failed && guest) console.info(await guest.diagnose());
    await vm?.destroy();
  });

  test(
    `power cuts at ${CUTS} seeded moments of the changer's state writes: every state file parses, no slot lost or renumbered, no event lost or delivered twice, the next backup works`,
    guarded(async () => {
      await installWorkload(guest);
      const kinds = new Map<string, number>();
      for (let cut = 1; cut <= CUTS; cut++) {
        const before = registryMap((await vm.must(["cat", REGISTRY])).stdout);
        await startWorkload(guest, random(2 ** 30));
        const delay = 3000 + random(20_000);
        await Bun.sleep(delay);
        // Events queued or delivered by now must all reach the notifier once.
        const queued = await eventIds(guest);
        const console = vm.consoleText();
        await vm.powerCut();
        const what = interrupted(console);
        const kind = what.op.replace(/^#\d+ /, "").replace(/ .*/, "");
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const bootStarted = Date.now();
        await vm.boot();
        await vm.must(["chmod", "0666", "/dev/ttyS0"]);
        await plug("diskA");
        await guest.waitMapping(true, "udev opens disk A", UNLOCK_MS);
        const list = await guest.magchanger(["changer", CONF, "list"]);
        expect(
          list.exitCode,
          `cut ${cut} during ${what.op}: ${list.stderr}`,
        ).toBe(0);
        expectSlotsKept(
          before,
          registryMap((await vm.must(["cat", REGISTRY])).stdout),
        );
        const refresh = await guest.magchanger(["refresh", "-c", CONF]);
        expect(refresh.exitCode, `cut ${cut}: ${refresh.stderr}`).toBe(0);
        const notified = await notifiedIds(guest);
        for (const id of queued)
          expect(notified.has(id), `event ${id} lost (cut ${cut})`).toBe(true);
        for (const [id, times] of notified)
          if (id !== what.notifying)
            expect(times, `event ${id} delivered ${times} times`).toBe(1);
        const setup = await guest.magchanger([
          "setup",
          "-c",
          "/etc/magchanger/stage1/usbchanger1.toml",
          "--prefix",
          STAGE,
          "--write",
        ]);
        expect(setup.exitCode, setup.stderr).toBe(0);
        note(
          `cut ${cut}: after ${ms(delay)} during ${what.op} (${what.ops} operations${what.notifying ? `, notifier of ${what.notifying} running` : ""}); up again, checked in ${ms(Date.now() - bootStarted)}; ${queued.size} events queued so far, all delivered once`,
        );
      }
      note(
        `power cuts by operation: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")}`,
      );
      const job = await guest.runJob('run job="usbchanger1-example" yes');
      expect(await guest.waitJob(job, 600_000)).toBe("T");
    }),
    60 * 60_000,
  );
});

/** Ids of the events queued (pending or delivered) in the work dir. */
async function eventIds(guest: Guest): Promise<Set<string>> {
  const r = await guest.vm.sh(
    "cd /var/lib/magchanger/usbchanger1/events 2>/dev/null && ls -1 . sent 2>/dev/null",
  );
  return new Set(
    r.stdout
      .split("\n")
      .map((l) => /^(\S+)\.json$/.exec(l.trim())?.[1])
      .filter((id): id is string => id !== undefined),
  );
}

/** How many times the recording notifier was called for each event id. */
async function notifiedIds(guest: Guest): Promise<Map<string, number>> {
  const text = (await guest.vm.must(["cat", NOTIFY_LOG])).stdout;
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const id = line.split(" ")[0];
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
