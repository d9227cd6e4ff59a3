import { describe, expect, test } from "bun:test";
import { StateCorruptError } from "../../src/errors.ts";
import {
  addVolume,
  allocateSlots,
  emptyRegistry,
  parseRegistry,
  retireVolume,
  serializeRegistry,
  slotCount,
} from "../../src/state/registry.ts";
import { crc32Hex } from "../../src/state/registry-text.ts";

const M1 = "11111111-1111-4111-8111-111111111111";

describe("slot registry", () => {
  test("round-trips volumes, retired slots, magazines and ignored names", () => {
    const r = emptyRegistry();
    r.magazines.set(M1, 3);
    addVolume(r, { slot: 1, magazine: M1, barcode: "a_0001" });
    addVolume(r, { slot: 2, magazine: M1, barcode: "a_0002" });
    retireVolume(r, r.slots.get(2)!);
    r.ignored.add(`${M1}/read me:now`);
    const text = serializeRegistry(r);
    const body = `magchanger-registry 2\nM ${M1} 3\nS 1 ${M1} a_0001\nR 2 a_0002\nI ${M1} read%20me%3Anow\n`;
    expect(text).toBe(`${body}end 4 ${crc32Hex(body)}\n`);
    const back = parseRegistry(text, "x");
    expect(serializeRegistry(back)).toBe(text);
    expect(back.ignored.has(`${M1}/read me:now`)).toBe(true);
  });

  test("a retired slot is never handed out; holes are reused lowest first", () => {
    const r = emptyRegistry();
    addVolume(r, { slot: 1, magazine: M1, barcode: "v1" });
    addVolume(r, { slot: 4, magazine: M1, barcode: "v4" });
    r.retired.set(2, "gone");
    expect(allocateSlots(r, 3)).toEqual([3, 5, 6]);
  });

  test("slot count covers live and retired slots so Bacula's known slots stay in range", () => {
    const r = emptyRegistry();
    addVolume(r, { slot: 3, magazine: M1, barcode: "v3" });
    r.retired.set(9, "old");
    expect(slotCount(r)).toBe(9);
    expect(slotCount(emptyRegistry())).toBe(0);
  });

  test.each([
    ["no header", "S 1 x y\n"],
    ["bad slot", "magchanger-registry 1\nS zero x y\n"],
    ["duplicate slot", "magchanger-registry 1\nS 1 m a\nS 1 m b\n"],
    ["duplicate barcode", "magchanger-registry 1\nS 1 m a\nS 2 m a\n"],
    ["unknown line", "magchanger-registry 1\nX 1\n"],
  ])("a corrupt file (%s) is refused with the path and line", (_what, text) => {
    expect(() => parseRegistry(text, "/w/slots")).toThrow(StateCorruptError);
    expect(() => parseRegistry(text, "/w/slots")).toThrow(
      /\/w\/slots line \d+ is corrupt/,
    );
  });
});
