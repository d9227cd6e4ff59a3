// The one table of which part of src/ may import which. A unit is a folder of src/ ("disk/") or a
// file directly in it ("main.ts"). The README's Development section draws these floors, and
// test/layers/layers.test.ts holds the code (and that drawing) to them.

/** Floors from the bottom up: a unit imports only units on floors below its own. */
export const FLOORS: readonly (readonly string[])[] = [
  ["text.ts", "errors.ts", "version.ts", "argv0.ts"],
  ["system/"],
  ["state/"],
  ["config/", "log.ts"],
  ["events/"],
  ["disk/"],
  ["changer/"],
  ["bacula/"],
  ["unlock/", "automap/", "setup/"],
  ["doctor/"],
  ["commands/"],
  ["main.ts"],
];

/**
 * Units that reach less far down than their floor: the udev, autofs and install paths run
 * without a changer, so they must not load disk/, changer/ or bacula/ (they sit above them only
 * because doctor/ reads all of them). The value is the highest unit they may import. unlock
 * queues one event (a disk it could not open: events/queue.ts, no changer needed).
 */
export const REACH: Readonly<Record<string, string>> = {
  "unlock/": "events/",
  "automap/": "config/",
  "setup/": "config/",
};
