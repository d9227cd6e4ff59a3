// A changer call the storage daemon started must never run bconsole: the Director would make the
// SD call the changer back while it waits on us (deadlock, BACULA.md). Bacula updates happen in
// `refresh`, which the protocol path cannot even load.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { importGraph, SRC } from "../helpers/imports.ts";

test("the changer protocol path cannot reach bconsole or refresh", () => {
  const graph = importGraph(join(SRC, "commands/changer.ts"));
  expect(graph.has(join(SRC, "commands/protocol.ts"))).toBe(true);
  expect(graph.has(join(SRC, "changer/operations.ts"))).toBe(true);
  expect(
    [...graph].filter((m) =>
      /\/(bacula\/bconsole|magazine\/refresh|commands\/refresh)\.ts$/.test(m),
    ),
  ).toEqual([]);
});

test("the check itself sees bconsole where it is", () => {
  expect(
    importGraph(join(SRC, "commands/refresh.ts")).has(
      join(SRC, "bacula/bconsole.ts"),
    ),
  ).toBe(true);
});
