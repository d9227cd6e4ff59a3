import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { noticeBays } from "../../src/changer/bay-events.ts";
import type { Config } from "../../src/config/schema.ts";
import type { MagazineStatus } from "../../src/disk/discover.ts";
import { pendingEventIds, readPendingEvents } from "../../src/events/queue.ts";
import { realSystem } from "../../src/system/system.ts";
import { memoryLog } from "../helpers/log.ts";
import { makeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("bay-events");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sys = realSystem({ blkid: "/usr/sbin/blkid" });

function config(workDir: string, percent: number): Config {
  return {
    name: "be",
    work_dir: workDir,
    source: join(dir, "be.toml"),
    notify: { command: [], timeout: 60, nearly_full_percent: percent },
  } as unknown as Config;
}

const spec = { path: "/x", allow_unmounted: false };

test("a foreign disk in a bay raises unknown-disk once, and again only after it left and came back", () => {
  const workDir = join(dir, "w1");
  mkdirSync(workDir);
  // /proc is a mount point whatever the machine: it stands for a disk that is no magazine.
  const foreign: MagazineStatus = {
    index: 2,
    spec,
    where: "/proc",
    mountPoint: "/proc",
    present: false,
    reason: "/proc carries no magchanger identity",
    volumes: [],
    ignored: [],
  };
  const empty: MagazineStatus = {
    ...foreign,
    mountPoint: join(dir, "no-such-dir"),
  };
  const kinds = (events: { kind: string }[]) => events.map((e) => e.kind);
  expect(
    kinds(noticeBays(config(workDir, 90), [foreign], sys, memoryLog())),
  ).toEqual(["unknown-disk"]);
  expect(noticeBays(config(workDir, 90), [foreign], sys, memoryLog())).toEqual(
    [],
  );
  expect(noticeBays(config(workDir, 90), [empty], sys, memoryLog())).toEqual(
    [],
  );
  expect(
    kinds(noticeBays(config(workDir, 90), [foreign], sys, memoryLog())),
  ).toEqual(["unknown-disk"]);
  expect(readPendingEvents(workDir).map((e) => e.event)).toMatchObject([
    {
      kind: "unknown-disk",
      bay: 2,
      detail: "/proc carries no magchanger identity",
    },
    { kind: "unknown-disk", bay: 2 },
  ]);
});

// Seen on a real kernel: a disk pulled while a refresh read it answers EIO, and the bay was
// reported as "a disk that is no magazine of this changer: ... re-initialize the magazine".
test("a disk that fails with an I/O error is no unknown disk: no event", () => {
  const workDir = join(dir, "w-eio");
  mkdirSync(workDir);
  const failed: MagazineStatus = {
    index: 1,
    spec,
    where: "/proc",
    mountPoint: "/proc",
    present: false,
    reason:
      "reading /proc/.magchanger-x failed with EIO (input/output error): the disk was pulled while mounted, or is failing",
    failed: true,
    volumes: [],
    ignored: [],
  };
  expect(noticeBays(config(workDir, 90), [failed], sys, memoryLog())).toEqual(
    [],
  );
  expect(pendingEventIds(workDir)).toEqual([]);
});

test("a magazine past nearly_full_percent raises magazine-nearly-full once, re-armed when it is below again", () => {
  const workDir = join(dir, "w2");
  mkdirSync(workDir);
  const identity = {
    uuid: "0b7f-aaaa",
    changer: "be",
    number: 3,
    lastVolume: 1,
    created: "x",
    name: "Friday",
  };
  const bay: MagazineStatus = {
    index: 1,
    spec,
    where: dir,
    mountPoint: dir,
    present: true,
    identity,
    volumes: [],
    ignored: [],
  };
  // 1%: any filesystem the tests run on is that full; 100%: none is.
  const first = noticeBays(config(workDir, 1), [bay], sys, memoryLog());
  expect(first).toMatchObject([
    {
      kind: "magazine-nearly-full",
      magazine: { number: 3, name: "Friday", uuid: "0b7f-aaaa" },
    },
  ]);
  const full = first[0] as { freeBytes: number; totalBytes: number };
  expect(full.freeBytes).toBeLessThan(full.totalBytes);
  expect(noticeBays(config(workDir, 1), [bay], sys, memoryLog())).toEqual([]);
  expect(noticeBays(config(workDir, 100), [bay], sys, memoryLog())).toEqual([]);
  expect(noticeBays(config(workDir, 1), [bay], sys, memoryLog())).toHaveLength(
    1,
  );
  expect(pendingEventIds(workDir)).toHaveLength(2);
});
