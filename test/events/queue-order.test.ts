// The queue's order is its file names' order (pendingEventIds sorts them, deliverEvents follows
// it): events one process queues within one millisecond must still sort in the order queued.
import { afterAll, expect, setSystemTime, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { enqueueEvent, pendingEventIds } from "../../src/events/queue.ts";
import { makeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("queue-order");
afterAll(() => {
  setSystemTime();
  rmSync(dir, { recursive: true, force: true });
});

test("a dozen events queued in the same millisecond stay in the order queued", () => {
  const workDir = join(dir, "w");
  mkdirSync(workDir);
  // The clock held still: what a fast work dir (tmpfs) gives a refresh raising many bay events.
  setSystemTime(new Date("2030-01-02T03:04:05.006Z"));
  const ids: string[] = [];
  for (let bay = 1; bay <= 12; bay++) {
    const id = enqueueEvent(workDir, {
      kind: "unknown-disk",
      bay,
      detail: "no magazine of this changer",
      at: new Date().toISOString(),
    });
    ids.push(id as string);
  }
  setSystemTime();
  expect(pendingEventIds(workDir)).toEqual(ids);
});
