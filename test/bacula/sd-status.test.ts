// The SD status parser against real `status storage` outputs of Bacula 9.6.7 (fixtures captured
// by test/e2e/bacula/capture-sd-status.ts from the real SD with magchanger as its changer).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  blockedDrives,
  parseStorageStatus,
} from "../../src/bacula/sd-status.ts";

const fixture = (name: string) =>
  readFileSync(
    join(import.meta.dir, "fixtures", `sd-status-${name}.txt`),
    "utf8",
  );

const drive1Idle = {
  drive: 1,
  device: "mc-changer-drive1",
  state: "idle",
  jobs: [],
};

describe("parseStorageStatus (real 9.6.7 outputs)", () => {
  test("an idle changer: both drives idle, drive numbers from the drive lines", () => {
    expect(parseStorageStatus(fixture("idle"))).toEqual([
      { drive: 0, device: "mc-changer-drive0", state: "idle", jobs: [] },
      drive1Idle,
    ] as never);
  });

  test("a backup being written: the drive is writing, with its job and volume", () => {
    expect(parseStorageStatus(fixture("writing"))).toEqual([
      {
        drive: 0,
        device: "mc-changer-drive0",
        state: "writing",
        volume: "mccap_0002_0006",
        jobs: [{ jobid: 1, name: "mc-backup" }],
      },
      drive1Idle,
    ] as never);
  });

  test("a restore being read: the drive is reading", () => {
    expect(parseStorageStatus(fixture("reading"))).toEqual([
      {
        drive: 0,
        device: "mc-changer-drive0",
        state: "reading",
        volume: "mccap_0002_0006",
        jobs: [{ jobid: 2, name: "mc-restore" }],
      },
      drive1Idle,
    ] as never);
  });

  test("after jobs ended (a slot last loaded, not open): idle", () => {
    for (const name of ["after-backup", "after-jobs"])
      expect(
        parseStorageStatus(fixture(name)).map((d) => [d.drive, d.state]),
      ).toEqual([
        [0, "idle"],
        [1, "idle"],
      ]);
  });

  test("a restore whose volume is on the disk in the drawer: blocked-mount naming the volume and the job", () => {
    for (const name of ["blocked-mount", "blocked-after-refresh"]) {
      const status = parseStorageStatus(fixture(name));
      expect(status[0]).toEqual({
        drive: 0,
        device: "mc-changer-drive0",
        state: "blocked-mount",
        volume: "mccap_0002_0006",
        wantedVolume: "mccap_0002_0006",
        jobs: [{ jobid: 3, name: "mc-restore" }],
      });
      expect(status[1]?.state).toBe("idle");
      expect(blockedDrives(status).map((d) => d.drive)).toEqual([0]);
    }
  });

  test("a backup that filled the disk: blocked-mount without a wanted volume, the pool it waits for, its job on drive 1", () => {
    const status = parseStorageStatus(fixture("blocked-append"));
    expect(status[1]).toEqual({
      drive: 1,
      device: "mc-changer-drive1",
      state: "blocked-mount",
      wantedPool: "mc-pool",
      jobs: [{ jobid: 4, name: "mc-backup" }],
    });
    expect(status[0]?.state).toBe("idle");
  });

  test("the pool of a wait for any appendable volume keeps its spaces; a block without a Pool line has none", () => {
    const device = (n: number, lines: string) =>
      `Device File: "d${n}" (/w/drive${n}) is not open.\n${lines}   Drive ${n} is not loaded.\n==\n`;
    const text = `Device status:\n\n${device(
      0,
      "   Device is BLOCKED waiting to create a volume for:\n       Pool:        Off Site 2\n       Media type:  File\n",
    )}\n${device(1, "   Device is BLOCKED waiting for media.\n")}====\n`;
    expect(parseStorageStatus(text)).toEqual([
      {
        drive: 0,
        device: "d0",
        state: "blocked-mount",
        wantedPool: "Off Site 2",
        jobs: [],
      },
      { drive: 1, device: "d1", state: "blocked-mount", jobs: [] },
    ]);
  });

  test("an operator's unmount is not a wait to resume; a mounted volume is read from its block", () => {
    const text = `Running Jobs:
No Jobs running.
====

Device status:

Device File: "d0" (/w/drive0) is mounted with:
    Volume:      V1
    Pool:        P
    Media type:  File
   Total Bytes=215 Blocks=0 Bytes/block=215
   Positioned at File=0 Block=215
==

Device File: "d1" (/w/drive1) is not open.
   Device is BLOCKED. User unmounted.
==
`;
    expect(parseStorageStatus(text)).toEqual([
      { drive: 0, device: "d0", state: "mounted", volume: "V1", jobs: [] },
      { drive: 1, device: "d1", state: "unknown", jobs: [] },
    ]);
  });

  test("no device section (an error or another daemon's text): no drives; CRLF is tolerated", () => {
    expect(
      parseStorageStatus("Failed to connect to Storage daemon.\n"),
    ).toEqual([]);
    expect(
      parseStorageStatus(fixture("idle").replaceAll("\n", "\r\n")).length,
    ).toBe(2);
  });
});
