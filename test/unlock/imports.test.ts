// unlock runs inside systemd-udevd's sandbox (MemoryDenyWriteExecute): bun:ffi needs the JIT
// there and fails, so nothing unlock loads may import it, nor the changer lock built on it.
// automap runs on every autofs lookup: it must not load the CLI framework or the lock either.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { importGraph, SRC } from "../helpers/imports.ts";

const forbidden = (graph: Set<string>) =>
  [...graph].filter(
    (m) =>
      m === "bun:ffi" ||
      m.endsWith("/state/lock.ts") ||
      m === "citty" ||
      m === "consola",
  );

describe("what unlock and automap load", () => {
  test("unlock reaches neither bun:ffi nor the changer lock (nor citty/consola)", () => {
    const graph = importGraph(join(SRC, "commands/unlock.ts"));
    expect(graph.has(join(SRC, "unlock/unlock.ts"))).toBe(true);
    expect(forbidden(graph)).toEqual([]);
  });

  test("unlock cannot run refresh itself: udev would kill it, and it would wait on bconsole", () => {
    const graph = importGraph(join(SRC, "commands/unlock.ts"));
    expect(graph.has(join(SRC, "unlock/trigger.ts"))).toBe(true);
    expect(
      [...graph].filter((m) =>
        /\/(magazine\/refresh|commands\/refresh|bacula\/bconsole)\.ts$/.test(m),
      ),
    ).toEqual([]);
  });

  test("automap reaches neither bun:ffi, the changer lock, citty nor consola", () => {
    const graph = importGraph(join(SRC, "commands/automap.ts"));
    expect(graph.has(join(SRC, "automap/resolve.ts"))).toBe(true);
    expect(forbidden(graph)).toEqual([]);
  });

  test("the check itself sees bun:ffi where it is", () => {
    expect(importGraph(join(SRC, "state/lock.ts")).has("bun:ffi")).toBe(true);
  });
});
