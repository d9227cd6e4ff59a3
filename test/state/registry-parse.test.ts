// parseRegistry reads S lines in place (no split per line) because `list` parses the registry on
// every call; these pin that the fast path accepts and rejects exactly what the plain
// field-splitting reader did, with the same line numbers in its errors.
import { describe, expect, test } from "bun:test";
import { parseRegistry } from "../../src/state/registry.ts";

const HEAD = "magchanger-registry 1\n";
const parse = (body: string) => parseRegistry(HEAD + body, "/w/slots");

describe("registry parsing", () => {
  test("reads S, R, M and I lines, with or without a final newline", () => {
    const r = parse(
      "M u1 1\nS 1 u1 a\nS 2 u1 b\n\nR 3 c\nI u1 bad%20name\nS 4 u2 d",
    );
    expect([...r.slots.keys()]).toEqual([1, 2, 4]);
    expect(r.slots.get(4)).toEqual({ slot: 4, magazine: "u2", barcode: "d" });
    expect(r.byBarcode.get("b")?.slot).toBe(2);
    expect([...r.retired]).toEqual([[3, "c"]]);
    expect([...r.magazines]).toEqual([["u1", 1]]);
    expect([...r.ignored]).toEqual(["u1/bad name"]);
  });

  test("slot numbers Number() accepts are still accepted (007, 1e1)", () => {
    const r = parse("S 007 u a\nS 1e1 u b\n");
    expect([...r.slots.keys()]).toEqual([7, 10]);
  });

  test("a duplicate slot or barcode names its line", () => {
    expect(() => parse("S 1 u a\n\nS 1 u b\n")).toThrow(
      "line 4 is corrupt (duplicate slot or barcode)",
    );
    expect(() => parse("S 1 u a\nS 2 v a\n")).toThrow(
      "line 3 is corrupt (duplicate slot or barcode)",
    );
  });

  test("extra or missing fields and bad numbers are corrupt, with their line", () => {
    expect(() => parse("S 1 u a extra\n")).toThrow(
      'line 2 is corrupt (unexpected "S 1 u a extra")',
    );
    expect(() => parse("S 1 u a\nS 2 u\n")).toThrow("line 3 is corrupt");
    expect(() => parse("S  1 u a\n")).toThrow("line 2 is corrupt");
    expect(() => parse("S 0 u a\n")).toThrow(
      'line 2 is corrupt (bad number "0")',
    );
    expect(() => parse("S 1.5 u a\n")).toThrow('bad number "1.5"');
    expect(() => parseRegistry("magchanger-registry 2\n", "/w/slots")).toThrow(
      "line 1 is corrupt (missing header)",
    );
  });

  test("each entry keeps its own magazine when uuids alternate", () => {
    const r = parse("S 1 u1 a\nS 2 u1 b\nS 3 u2 c\nS 4 u1 d\n");
    expect(r.slots.get(1)?.magazine).toBe("u1");
    expect(r.slots.get(3)?.magazine).toBe("u2");
    expect(r.slots.get(4)?.magazine).toBe("u1");
  });
});
