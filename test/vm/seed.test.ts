// Issue 18: the seed's chain with nothing faked. A Debian 12 guest (its stock kernel, systemd,
// udev, dm-crypt, autofs, Bacula 9.6.7) under QEMU; two USB disks plugged in and pulled out
// through QMP as a person would. The steps (story.ts) build on each other, in order, in one
// boot; each asserts what it claims from the guest's real state.
import { afterAll, beforeAll, describe, test } from "bun:test";
import { skipUnless } from "../helpers/capabilities.ts";
import { SeedStory } from "./story.ts";

const SUITE = "the seed's chain on a real kernel (QEMU guest, USB disks)";
const STEPS = 6;

describe.skipIf(skipUnless(["vm"], SUITE))(SUITE, () => {
  let story: SeedStory;
  /** Steps that reached their end; the guest's state is printed when one did not. */
  let passed = 0;
  const step = (name: string, run: () => Promise<void>, timeoutMs: number) =>
    test(
      name,
      async () => {
        await run();
        passed++;
      },
      timeoutMs,
    );

  beforeAll(async () => {
    story = await SeedStory.start((line) => console.info(`vm: ${line}`));
  }, 900_000);

  afterAll(async () => {
    if (!story) return;
    console.info(`vm: figures:\n  ${story.figures.join("\n  ")}`);
    await story.end(passed < STEPS);
  });

  step(
    "1. the README's first backup runs as written on a USB disk, ending in a verified restore",
    () => story.firstBackup(),
    900_000,
  );
  step(
    "2-3. eject says safe to unplug; once pulled the mount and the mapping are gone; replugged, udev unlocks it with no command and the first access mounts it",
    () => story.replug(),
    600_000,
  );
  step(
    "4. disk B, prepared as the README says, gets the Incremental",
    () => story.secondDisk(),
    900_000,
  );
  step(
    "5. a restore of the Full waits for disk A; the notifier names it; B out, A in: it resumes with no command typed and verifies by sha256",
    () => story.restoreWaitsForA(),
    900_000,
  );
  step(
    "6. left idle, autofs unmounts it; pulled then, the udev remove event leaves no mapping",
    () => story.idlePull(),
    300_000,
  );
  step(
    "7. pulled without eject while mounted and idle: the chain removes the dead mount and the mapping; the same disk, then another, are unlocked and mounted with no command typed",
    () => story.pullsWithoutEject(),
    600_000,
  );
});
