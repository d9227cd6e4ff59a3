// The run-as user owns WORK_DIR/events (it queues events from changer calls), so whoever holds
// that account can plant event files the delivery (run by refresh, the timer, as root on some
// set-ups) hands to the notifier. A planted kind would go raw into the notifier's argv
// ({kind}) and MAGCHANGER_EVENT_KIND: a newline forges a mail header, a leading '-' an option.
// Only the known kinds with fields of the right types are events; anything else is set aside
// as ID.damaged, as other damage is, and the events after it are still delivered.
import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { deliverEvents } from "../../src/events/deliver.ts";
import { eventsDir, readEventFile } from "../../src/events/queue.ts";
import { memoryLog } from "../helpers/log.ts";
import { makeTempDir } from "../helpers/tmp.ts";
import { eventsConfig } from "./fixtures.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const magazine = { number: 2, name: "Thursday", uuid: "0b7f-1234" };
const at = "2026-12-02T00:00:00.000Z";
const valid = { kind: "volume-needed", volume: "v1", slot: 3, magazine, at };
const spaceMagazine = {
  magazine,
  appendable: 0,
  recyclable: 2,
  purged: 1,
  unlabeled: 0,
  volumes: ["v1", "v2", "v3"],
  reusableBytes: 1024,
  freeBytes: 2048,
  freeAt: at,
};
const spaceNeeded = {
  kind: "space-needed",
  pool: "Off Site",
  jobs: [{ jobid: 5, name: "backup" }],
  magazines: [spaceMagazine],
  at,
};
const attachedTooLong = {
  kind: "magazine-attached-too-long",
  magazine,
  bay: 1,
  since: at,
  days: 8,
  limitDays: 7,
  at,
};
const absentTooLong = {
  kind: "magazine-absent-too-long",
  magazine,
  since: at,
  days: 31,
  limitDays: 30,
  at,
};

/** Planted event files, in queue order, each with what makes it no event. */
const PLANTED: [string, unknown][] = [
  ["a newline in the kind", { ...valid, kind: "volume-needed\nBcc: x@y" }],
  ["an option as the kind", { ...valid, kind: "--output=/etc/passwd" }],
  ["an unknown kind", { ...valid, kind: "disk-on-fire" }],
  [
    "a control character in the kind",
    { ...valid, kind: "refresh-failed\u001b" },
  ],
  ["a slot that is no number", { ...valid, slot: "3\n-x" }],
  ["no magazine", { kind: "magazine-attached", bay: 1, at }],
  [
    "a magazine without a uuid",
    { kind: "magazine-removed", bay: 1, at, magazine: { number: 2 } },
  ],
  ["an error that is no string", { kind: "refresh-failed", error: ["-x"], at }],
  ["no bay", { kind: "unknown-disk", detail: "d", at }],
  [
    "a free byte count that is a string",
    {
      kind: "magazine-nearly-full",
      magazine,
      freeBytes: "1",
      totalBytes: 2,
      at,
    },
  ],
  [
    "a name that is no string",
    { ...valid, magazine: { ...magazine, name: 5 } },
  ],
  ["no time", { kind: "refresh-failed", error: "e" }],
  [
    "a space-needed magazine count that is no number",
    { ...spaceNeeded, magazines: [{ ...spaceMagazine, recyclable: "2" }] },
  ],
  [
    "a space-needed volume name that is no string",
    { ...spaceNeeded, magazines: [{ ...spaceMagazine, volumes: [7] }] },
  ],
  ["space-needed without a pool", { ...spaceNeeded, pool: undefined }],
  [
    "space-needed with a job that is no job",
    { ...spaceNeeded, jobs: [{ jobid: "1", name: "b" }] },
  ],
  [
    "space-needed with a last-seen time that is no string",
    { ...spaceNeeded, magazines: [{ ...spaceMagazine, freeAt: 1 }] },
  ],
  ["too many days that are no number", { ...attachedTooLong, days: "8\n-x" }],
  ["absent too long without its limit", { ...absentTooLong, limitDays: -1 }],
];

test("planted events with an unknown kind or badly typed fields are set aside as .damaged, never handed to the notifier", async () => {
  const dir = makeTempDir("events-planted");
  dirs.push(dir);
  const workDir = join(dir, "work");
  const events = eventsDir(workDir);
  mkdirSync(events, { recursive: true, mode: 0o700 });
  const args = join(dir, "args");
  const script = join(dir, "argv.sh");
  writeFileSync(
    script,
    `#!/bin/sh\ncat > /dev/null\nfor a in "$@"; do printf '[%s]' "$a"; done >> ${args}\nprintf '[%s]\\n' "$MAGCHANGER_EVENT_KIND" >> ${args}\n`,
  );
  chmodSync(script, 0o755);
  const ids = PLANTED.map((_, i) => `${String(i + 1).padStart(15, "0")}-1-1`);
  PLANTED.forEach(([, value], i) => {
    const file = join(events, `${ids[i]}.json`);
    writeFileSync(file, JSON.stringify(value));
    expect(readEventFile(file)).toBeUndefined();
  });
  const last = `${String(PLANTED.length + 1).padStart(15, "0")}-1-1`;
  writeFileSync(join(events, `${last}.json`), JSON.stringify(valid));
  const config = eventsConfig(workDir, [script, "{kind}"]);
  const log = memoryLog();
  // Set aside is not delivered: "notified: N event(s)" counts only what the notifier got.
  expect(await deliverEvents(config, log)).toEqual({
    delivered: 1,
    pending: 0,
  });
  expect(readFileSync(args, "utf8")).toBe("[volume-needed][volume-needed]\n");
  for (const id of ids) {
    expect(existsSync(join(events, `${id}.damaged`))).toBe(true);
    expect(log.lines).toContain(
      `error: event ${id} is damaged or unreadable; set aside as ${id}.damaged`,
    );
  }
  expect(readdirSync(events).filter((n) => n.endsWith(".json"))).toEqual([]);
});

test("every event the changer queues itself still reads back", () => {
  const dir = makeTempDir("events-kinds");
  dirs.push(dir);
  const file = join(dir, "e.json");
  const kinds: unknown[] = [
    valid,
    {
      kind: "magazine-attached",
      magazine: { ...magazine, label: "l" },
      bay: 1,
      at,
    },
    { kind: "magazine-removed", magazine, bay: 2, at },
    { kind: "unknown-disk", bay: 1, detail: "no identity", at },
    { kind: "state-write-failed", path: "/w/slots", error: "ENOSPC", at },
    { kind: "refresh-failed", error: "bconsole timed out", at },
    { kind: "magazine-nearly-full", magazine, freeBytes: 1, totalBytes: 2, at },
    spaceNeeded,
    { ...spaceNeeded, jobs: [], magazines: [] },
    {
      ...spaceNeeded,
      magazines: [
        { ...spaceMagazine, freeBytes: undefined, freeAt: undefined },
      ],
    },
    attachedTooLong,
    absentTooLong,
  ];
  for (const event of kinds) {
    writeFileSync(file, JSON.stringify(event));
    expect(readEventFile(file)).toEqual(event as never);
  }
});
