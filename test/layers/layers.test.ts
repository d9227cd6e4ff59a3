// The layers of src/ (test/layers/rules.ts): no import runs sideways or up, every folder is on a
// floor, and the README draws the same floors. The checker is run on planted graphs too, so a
// wrong edge is seen to fail.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SRC } from "../helpers/imports.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  type Edge,
  fileCycles,
  importEdges,
  RULES,
  unitOf,
  violations,
} from "./graph.ts";

const README = resolve(import.meta.dir, "../../README.md");

describe("the import graph of src/", () => {
  test("runs only downwards, within each unit's reach", () => {
    const edges = importEdges(SRC);
    expect(edges.length).toBeGreaterThan(100);
    expect(violations(edges)).toEqual([]);
  });

  test("has no import cycle between files (move what both need into a file below them)", () => {
    expect(fileCycles(importEdges(SRC))).toEqual([]);
  });

  test("every folder and file of src/ is on a floor", () => {
    const units = readdirSync(SRC, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? `${e.name}/` : e.name,
    );
    const placed = new Set(RULES.floors.flat());
    expect(units.filter((u) => !placed.has(u))).toEqual([]);
    expect([...placed].filter((u) => !units.includes(u))).toEqual([]);
  });

  test("the README's Development section draws the floors, top first", () => {
    const text = readFileSync(README, "utf8");
    const section = text.slice(text.indexOf("## Development"));
    const drawing = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const drawn = drawing
      .split("\n")
      .map((line): string[] => [
        ...(line.match(/\b[a-z0-9-]+(?:\/|\.ts\b)/g) ?? []),
      ])
      .filter((units) => units.length > 0);
    expect(drawn).toEqual(RULES.floors.map((f) => [...f]).reverse());
  });
});

describe("the layer checker", () => {
  const edge = (from: string, to: string): Edge => ({ from, to });

  test("fails an edge that runs up, naming both files", () => {
    expect(
      violations([edge("disk/discover.ts", "changer/context.ts")]),
    ).toEqual([
      "disk/discover.ts imports changer/context.ts: disk/ may not import changer/ (up); move the shared piece down, or change the rule in test/layers/rules.ts with the reason",
    ]);
  });

  test("fails an edge sideways between units of one floor", () => {
    expect(violations([edge("setup/plan.ts", "unlock/args.ts")])).toEqual([
      expect.stringContaining("setup/ may not import unlock/ (sideways"),
    ]);
  });

  test("fails an edge past a unit's reach, though it runs down", () => {
    expect(violations([edge("unlock/unlock.ts", "disk/discover.ts")])).toEqual([
      expect.stringContaining(
        "unlock/ may not import disk/ (past its reach (events/))",
      ),
    ]);
    expect(violations([edge("unlock/unlock.ts", "config/schema.ts")])).toEqual(
      [],
    );
  });

  test("fails a unit no floor holds, and passes edges inside one unit and downwards", () => {
    expect(violations([edge("extra/x.ts", "text.ts")])).toEqual([
      expect.stringContaining("extra/ is on no floor"),
    ]);
    expect(
      violations([
        edge("changer/moves.ts", "changer/context.ts"),
        edge("main.ts", "commands/changer.ts"),
        edge("commands/doctor.ts", "text.ts"),
      ]),
    ).toEqual([]);
  });

  test("finds file cycles of two, three and one file, and passes a graph without one", () => {
    expect(
      fileCycles([
        edge("a/x.ts", "a/y.ts"),
        edge("a/y.ts", "a/x.ts"),
        edge("b/1.ts", "b/2.ts"),
        edge("b/2.ts", "b/3.ts"),
        edge("b/3.ts", "b/1.ts"),
        edge("b/3.ts", "a/x.ts"),
        edge("c.ts", "c.ts"),
      ]),
    ).toEqual([
      "a/x.ts -> a/y.ts -> a/x.ts",
      "b/1.ts -> b/2.ts -> b/3.ts -> b/1.ts",
      "c.ts -> c.ts",
    ]);
    expect(
      fileCycles([
        edge("a.ts", "b.ts"),
        edge("b.ts", "c.ts"),
        edge("a.ts", "c.ts"),
      ]),
    ).toEqual([]);
  });

  test("reads static, dynamic, type-only and re-export imports from files", () => {
    const src = makeTempDir("layers");
    try {
      readsEveryKind(src);
    } finally {
      removeTempDir(src);
    }
  });
});

function readsEveryKind(src: string): void {
  const edge = (from: string, to: string): Edge => ({ from, to });
  mkdirSync(join(src, "disk"), { recursive: true });
  mkdirSync(join(src, "changer"), { recursive: true });
  writeFileSync(join(src, "text.ts"), "export const x = 1;\n");
  writeFileSync(join(src, "changer", "a.ts"), "export const a = 1;\n");
  writeFileSync(
    join(src, "disk", "b.ts"),
    [
      'import type { a } from "../changer/a.ts";',
      'export { x } from "../text.ts";',
      'const c = await import("../changer/a.ts");',
      '// a comment that says from "../bacula/x.ts" is no import',
    ].join("\n"),
  );
  const edges = importEdges(src);
  expect(edges).toEqual([
    edge("disk/b.ts", "changer/a.ts"),
    edge("disk/b.ts", "changer/a.ts"),
    edge("disk/b.ts", "text.ts"),
  ]);
  expect(violations(edges)).toHaveLength(2);
  expect(unitOf("disk/b.ts")).toBe("disk/");
}
