// A changer call the storage daemon started must never run bconsole: the Director would make the
// SD call the changer back while it waits on us (deadlock, BACULA.md). Bacula updates happen in
// `refresh`, which the protocol path cannot even load. Both protocol entries (`changer` and
// vchanger's positional form) stay lean: no CLI framework, no consola, and the drop-in loads
// exactly what `changer` loads; its extensions (which reach bconsole) only when asked for.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { importGraph, SRC } from "../helpers/imports.ts";

const CHANGER = join(SRC, "commands/changer.ts");
const FORM = join(SRC, "commands/vchanger/form.ts");
const EXTENSIONS = join(SRC, "commands/vchanger/extensions.ts");

const heavy = (graph: Set<string>) =>
  [...graph].filter(
    (m) =>
      /\/(bacula\/bconsole|bacula\/refresh|commands\/refresh|commands\/console)\.ts$/.test(
        m,
      ) ||
      m === "citty" ||
      m === "consola",
  );

/** What loading file evaluates, file itself left out. */
const loads = (file: string) =>
  [...importGraph(file, new Set(), false)].filter((m) => m !== file).sort();

describe("what the protocol path loads", () => {
  test("changer reaches neither bconsole, refresh, citty nor consola", () => {
    const graph = importGraph(CHANGER);
    expect(graph.has(join(SRC, "commands/protocol.ts"))).toBe(true);
    expect(graph.has(join(SRC, "changer/operations.ts"))).toBe(true);
    expect(heavy(graph)).toEqual([]);
  });

  test("the vchanger form loads exactly what changer loads, and its own option declarations", () => {
    expect(loads(FORM)).toEqual(
      [...loads(CHANGER), join(SRC, "commands/vchanger/options.ts")].sort(),
    );
    expect(heavy(importGraph(FORM, new Set(), false))).toEqual([]);
  });

  test("the vchanger extensions are loaded lazily, and only they reach bconsole", () => {
    expect(importGraph(FORM, new Set(), false).has(EXTENSIONS)).toBe(false);
    expect(importGraph(FORM).has(EXTENSIONS)).toBe(true);
    expect(importGraph(EXTENSIONS).has(join(SRC, "bacula/bconsole.ts"))).toBe(
      true,
    );
  });

  test("the vchanger extensions import no other command's module", () => {
    const commands = [...importGraph(EXTENSIONS, new Set(), false)].filter(
      (m) =>
        m.startsWith(join(SRC, "commands/")) &&
        !m.startsWith(join(SRC, "commands/vchanger/")) &&
        !/\/commands\/(cli|cli-parse|context)\.ts$/.test(m),
    );
    expect(commands).toEqual([]);
  });

  test("neither form initializes zod at start: the schemas are required on first validation", () => {
    for (const entry of [CHANGER, FORM]) {
      const graph = importGraph(entry, new Set(), false);
      expect(graph.has(join(SRC, "config/schema.ts"))).toBe(true);
      expect([...graph].filter((m) => /^zod(\/|$)/.test(m))).toEqual([]);
    }
    // ...and the check sees zod where it is.
    expect(importGraph(join(SRC, "config/schema-zod.ts")).has("zod/mini")).toBe(
      true,
    );
  });

  test("neither form loads the rotation schedule or the space-needed work (issue 21): refresh and status do", () => {
    const issue21 = [
      "changer/rotation.ts",
      "changer/rotation-events.ts",
      "changer/measure-space.ts",
      "bacula/space-needed.ts",
      "bacula/space-wanted.ts",
      "bacula/catalog.ts",
    ].map((m) => join(SRC, m));
    // changer not even on demand (a failed load's volume-needed record reads magazines.json
    // only); the vchanger form not until an extension (REFRESH) is asked for.
    const onDemand = importGraph(CHANGER);
    expect(issue21.filter((m) => onDemand.has(m))).toEqual([]);
    for (const entry of [CHANGER, FORM]) {
      const graph = importGraph(entry, new Set(), false);
      expect(issue21.filter((m) => graph.has(m))).toEqual([]);
      // [rotation]'s schema comes with the others, on first validation only.
      expect(
        importGraph(entry, new Set(), false).has(
          join(SRC, "config/rotation-schema.ts"),
        ),
      ).toBe(false);
    }
    const refresh = importGraph(join(SRC, "commands/refresh.ts"));
    const status = importGraph(join(SRC, "commands/status.ts"));
    expect(issue21.filter((m) => !refresh.has(m))).toEqual([]);
    expect(status.has(join(SRC, "bacula/space-needed.ts"))).toBe(true);
    expect(status.has(join(SRC, "changer/rotation.ts"))).toBe(true);
  });

  test("the check itself sees bconsole and consola where they are", () => {
    expect(
      importGraph(join(SRC, "commands/refresh.ts")).has(
        join(SRC, "bacula/bconsole.ts"),
      ),
    ).toBe(true);
    expect(importGraph(join(SRC, "commands/magazine.ts")).has("consola")).toBe(
      true,
    );
  });
});
