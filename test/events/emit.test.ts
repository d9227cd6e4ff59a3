import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../src/errors.ts";
import { noteStateWriteFailure } from "../../src/events/emit.ts";
import { readPendingEvents } from "../../src/events/queue.ts";
import { writeFailure } from "../../src/state/atomic.ts";
import { memoryLog } from "../helpers/log.ts";
import { makeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("emit");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a changer call's state write failure (ENOSPC) becomes one state-write-failed event naming the path and the cause; other errors none", () => {
  const workDir = join(dir, "w");
  mkdirSync(workDir);
  const enospc = Object.assign(new Error("no space"), { code: "ENOSPC" });
  const error = writeFailure(join(workDir, "drives.json"), enospc);
  noteStateWriteFailure(workDir, error, memoryLog());
  noteStateWriteFailure(
    workDir,
    new AppError("some other failure"),
    memoryLog(),
  );
  const events = readPendingEvents(workDir).map((e) => e.event);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    kind: "state-write-failed",
    path: join(workDir, "drives.json"),
  });
  expect((events[0] as { error: string }).error).toMatch(
    /^ENOSPC .*the previous state is unchanged$/,
  );
});
