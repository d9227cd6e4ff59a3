// The registry parser is the judge of the slot -> volume mapping (DESIGN property 1): anything
// it cannot vouch for is corruption (exit 6), never a silent renumbering. Version 2 files carry
// an end line (entry count + CRC-32); version 1 files (0.1) are read with every field checked.
import { describe, expect, test } from "bun:test";
import { StateCorruptError } from "../../src/errors.ts";
import {
  crc32Hex,
  emptyRegistry,
  MAX_SLOT,
  parseRegistry,
  serializeRegistry,
} from "../../src/state/registry-text.ts";

const V1 = "magchanger-registry 1\n";
const parse1 = (body: string) => parseRegistry(V1 + body, "/w/slots");
const v2 = (body: string, count?: number) => {
  const text = `magchanger-registry 2\n${body}`;
  const lines = body === "" ? 0 : body.split("\n").length - 1;
  return `${text}end ${count ?? lines} ${crc32Hex(text)}\n`;
};
const parse2 = (text: string) => parseRegistry(text, "/w/slots");

const GOOD =
  "M u1 1\nS 1 u1 a_0001\nS 2 u1 b_0002\nR 3 c_0003\nI u1 bad%20name\nS 4 u2 d_0004\n";

describe("registry parsing", () => {
  test("reads S, R, M and I lines of a version 2 file", () => {
    const r = parse2(v2(GOOD));
    expect([...r.slots.keys()]).toEqual([1, 2, 4]);
    expect(r.slots.get(4)).toEqual({
      slot: 4,
      magazine: "u2",
      barcode: "d_0004",
    });
    expect(r.byBarcode.get("b_0002")?.slot).toBe(2);
    expect([...r.retired]).toEqual([[3, "c_0003"]]);
    expect([...r.magazines]).toEqual([["u1", 1]]);
    expect([...r.ignored]).toEqual(["u1/bad name"]);
  });

  test("a version 1 file (0.1) is still read, and written back as version 2", () => {
    const r = parse1(GOOD);
    expect([...r.slots.keys()]).toEqual([1, 2, 4]);
    const written = serializeRegistry(r);
    expect(written.startsWith("magchanger-registry 2\n")).toBe(true);
    expect(parse2(written)).toEqual(r);
  });

  test.each([
    ["truncated at a line boundary", v2(GOOD).replace("S 4 u2 d_0004\n", "")],
    [
      "truncated mid-barcode",
      v2(GOOD).slice(0, v2(GOOD).indexOf("d_0004") + 3),
    ],
    ["a flipped byte in a barcode", v2(GOOD).replace("b_0002", "b_0003")],
    ["a line appended after the end line", `${v2(GOOD)}S 9 u1 z_0009\n`],
    ["an end line that miscounts", v2(GOOD, 5)],
    ["no end line", `magchanger-registry 2\n${GOOD}`],
  ])("version 2: %s is corrupt", (_what, text) => {
    expect(() => parse2(text)).toThrow(StateCorruptError);
  });

  test.each([
    ["a trailing CR on an S line", "S 1 u1 a_0001\r\n"],
    ["no final newline (truncated)", "S 1 u1 a_0001"],
    ["a Latin-1 byte in a barcode", "S 1 u1 a_\u00e9001\n"],
    ["a replacement character in a barcode", "S 1 u1 a_\ufffd001\n"],
    ["S 1e3", "S 1e3 u1 a\n"],
    ["S 0x10", "S 0x10 u1 a\n"],
    ["S 007", "S 007 u1 a\n"],
    ["a slot above the ceiling", `S ${MAX_SLOT + 1} u1 a\n`],
    ["S 2^53-1", "S 9007199254740991 u1 a\n"],
    ["M with number 0", "M u1 0\n"],
    ["M with number 1e300", "M u1 1e300\n"],
    ["a bad %-escape in an I line", "I u1 %E0%A4%A\n"],
    ["a slot both live and retired", "S 1 u1 a\nR 1 b\n"],
    ["a barcode with a colon", "S 1 u1 a:b\n"],
  ])("version 1: %s is corrupt", (_what, body) => {
    expect(() => parse1(body)).toThrow(StateCorruptError);
  });

  test("a duplicate slot or barcode names its line", () => {
    expect(() => parse1("S 1 u a\n\nS 1 u b\n")).toThrow(
      "line 4 is corrupt (duplicate slot or barcode)",
    );
    expect(() => parse1("S 1 u a\nS 2 v a\n")).toThrow(
      "line 3 is corrupt (duplicate slot or barcode)",
    );
  });

  test("extra or missing fields and bad numbers are corrupt, with their line", () => {
    expect(() => parse1("S 1 u a extra\n")).toThrow(
      'line 2 is corrupt (unexpected "S 1 u a extra")',
    );
    expect(() => parse1("S 1 u a\nS 2 u\n")).toThrow("line 3 is corrupt");
    expect(() => parse1("S  1 u a\n")).toThrow("line 2 is corrupt");
    expect(() => parse1("S 0 u a\n")).toThrow(
      'line 2 is corrupt (bad number "0"',
    );
    expect(() => parse1("S 1.5 u a\n")).toThrow('bad number "1.5"');
    expect(() => parseRegistry("magchanger-registry 3\n", "/w/slots")).toThrow(
      "line 1 is corrupt (missing header)",
    );
  });

  test("each entry keeps its own magazine when uuids alternate", () => {
    const r = parse2(v2("S 1 u1 a\nS 2 u1 b\nS 3 u2 c\nS 4 u1 d\n"));
    expect(r.slots.get(1)?.magazine).toBe("u1");
    expect(r.slots.get(3)?.magazine).toBe("u2");
    expect(r.slots.get(4)?.magazine).toBe("u1");
  });

  test("the serializer refuses what the parser would refuse (a magazine number of 0)", () => {
    const r = emptyRegistry();
    r.magazines.set("u1", 0);
    expect(() => serializeRegistry(r)).toThrow(
      "refusing to write a slot registry with magazine number 0",
    );
  });
});
