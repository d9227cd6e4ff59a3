// A changer call queues events but never delivers them: the notifier must not run while the
// storage daemon waits on the changer. The protocol path cannot even load the delivery code.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { importGraph, SRC } from "../helpers/imports.ts";

test("the changer protocol path can queue events but cannot reach their delivery", () => {
  const graph = importGraph(join(SRC, "commands/changer.ts"));
  expect(graph.has(join(SRC, "events/queue.ts"))).toBe(true);
  expect(
    [...graph].filter((m) => /\/events\/(deliver|notifier)\.ts$/.test(m)),
  ).toEqual([]);
  expect(
    importGraph(join(SRC, "commands/refresh.ts")).has(
      join(SRC, "events/deliver.ts"),
    ),
  ).toBe(true);
});
