// lookupSlot (the load path's single pass) must agree with the full parser on every slot.
import { afterAll, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateCorruptError } from "../../src/errors.ts";
import { lookupInPlace } from "../../src/state/registry-lookup.ts";
import { crc32Hex } from "../../src/state/registry-text.ts";
import {
  addVolume,
  emptyRegistry,
  lookupSlot,
  parseRegistry,
  retireVolume,
  serializeRegistry,
  slotCount,
} from "../../src/state/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "magchanger-lookup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "slots");

test("lookupSlot agrees with the full parser for every slot of random registries", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 20; round++) {
    const r = emptyRegistry();
    const mags = [
      "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
      "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
    ];
    mags.forEach((m, i) => r.magazines.set(m, i + 3));
    const n = 1 + Math.floor(random() * 60);
    for (let slot = 1; slot <= n; slot++) {
      if (random() < 0.2) continue; // a hole
      addVolume(r, {
        slot,
        magazine: mags[Math.floor(random() * 2)] as string,
        barcode: `v${round}_${slot}`,
      });
    }
    for (const entry of [...r.slots.values()])
      if (random() < 0.15) retireVolume(r, entry);
    r.ignored.add(`${mags[0]}/READ ME`);
    const text = serializeRegistry(r);
    writeFileSync(file, text);
    const parsed = parseRegistry(text, file);
    for (let slot = 0; slot <= n + 2; slot++) {
      const found = lookupSlot(dir, slot);
      // The serializer's output is answered in place, never by the full parser.
      expect(lookupInPlace(Buffer.from(text), slot)).toEqual(found);
      expect(found.count).toBe(slotCount(parsed));
      expect(found.entry).toEqual(parsed.slots.get(slot));
      expect(found.retired).toBe(parsed.retired.get(slot));
      const entry = parsed.slots.get(slot);
      expect(found.magazineNumber).toBe(
        entry ? parsed.magazines.get(entry.magazine) : undefined,
      );
    }
  }
});

test.each([
  ["a bad slot", "magchanger-registry 1\nS x m b\n"],
  ["no header", "not a registry\n"],
  ["an unknown line", "magchanger-registry 1\nS 1 m b\nX 1\n"],
  ["a duplicate slot", "magchanger-registry 1\nS 1 m b\nS 1 m c\n"],
  ["a duplicate barcode", "magchanger-registry 1\nS 1 m b\nS 2 m b\n"],
  ["a bad magazine line", "magchanger-registry 1\nM m\nS 1 m b\n"],
  [
    "a version 2 file with a bad checksum",
    "magchanger-registry 2\nS 1 m b\nend 1 00000000\n",
  ],
])(
  "a corrupt registry (%s) is refused by lookupSlot as by the full parser",
  (_what, text) => {
    writeFileSync(file, text);
    expect(() => parseRegistry(text, file)).toThrow(StateCorruptError);
    expect(() => lookupSlot(dir, 1)).toThrow(StateCorruptError);
  },
);

test("a registry that is a link, a FIFO or a directory is corrupt (exit 6), read without blocking", () => {
  rmSync(file, { force: true });
  symlinkSync("/dev/zero", file);
  expect(() => lookupSlot(dir, 1)).toThrow(StateCorruptError);
  rmSync(file);
  symlinkSync(join(dir, "nowhere"), file);
  expect(() => lookupSlot(dir, 1)).toThrow(StateCorruptError);
  rmSync(file);
  Bun.spawnSync(["mkfifo", file]);
  expect(() => lookupSlot(dir, 1)).toThrow(StateCorruptError);
  rmSync(file);
  mkdirSync(file);
  expect(() => lookupSlot(dir, 1)).toThrow(StateCorruptError);
  rmSync(file, { recursive: true });
});

test("no registry: no slots", () => {
  expect(lookupSlot(join(dir, "none"), 1)).toEqual({ count: 0 });
});

/** A registry of n volumes on two magazines, every 7th slot a hole, every 11th retired. */
function bigRegistry(n: number): string {
  const r = emptyRegistry();
  r.magazines.set("aaaa", 1);
  r.magazines.set("bbbb", 2);
  for (let slot = 1; slot <= n; slot++)
    if (slot % 7)
      addVolume(r, {
        slot,
        magazine: slot % 2 ? "aaaa" : "bbbb",
        barcode: `v_${slot}`,
      });
  for (const entry of [...r.slots.values()])
    if (entry.slot % 11 === 0) retireVolume(r, entry);
  return serializeRegistry(r);
}

test("the in-place lookup of a 20,000-volume registry agrees with the parser at every 97th slot and both ends", () => {
  const text = bigRegistry(20_000);
  const parsed = parseRegistry(text, file);
  const bytes = Buffer.from(text);
  for (const slot of [1, 2, 6, 7, 11, 19_999, 20_000, 20_001]) {
    const found = lookupInPlace(bytes, slot);
    expect(found?.count).toBe(slotCount(parsed));
    expect(found?.entry).toEqual(parsed.slots.get(slot));
    expect(found?.retired).toBe(parsed.retired.get(slot));
  }
  for (let slot = 1; slot <= 20_000; slot += 97)
    expect(lookupInPlace(bytes, slot)?.entry).toEqual(parsed.slots.get(slot));
});

test("a flipped byte anywhere in a large registry is corruption for load, as for the parser", () => {
  const text = bigRegistry(5000);
  for (const at of [30, text.length >> 1, text.length - 30]) {
    const bytes = Buffer.from(text);
    bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
    expect(lookupInPlace(bytes, 1)).toBeUndefined();
    writeFileSync(file, bytes);
    expect(() => lookupSlot(dir, 1)).toThrow(/corrupt/);
  }
});

test("a checksummed file that is not the serializer's (order, fields) goes to the full parser", () => {
  const sealed = (lines: string[]) => {
    const body = `magchanger-registry 2\n${lines.join("\n")}\n`;
    return `${body}end ${lines.length} ${crc32Hex(body)}\n`;
  };
  // An R line before the S lines: the parser accepts it, so must the lookup (through it).
  const reordered = sealed([
    "M aaaa 1",
    "R 3 old",
    "S 1 aaaa v1",
    "S 2 aaaa v2",
  ]);
  expect(lookupInPlace(Buffer.from(reordered), 2)).toBeUndefined();
  writeFileSync(file, reordered);
  expect(lookupSlot(dir, 2)).toEqual({
    count: 3,
    entry: { slot: 2, magazine: "aaaa", barcode: "v2" },
    magazineNumber: 1,
  });
  // An unknown line kind: the parser refuses it.
  const unknown = sealed(["M aaaa 1", "S 1 aaaa v1", "X 2"]);
  expect(lookupInPlace(Buffer.from(unknown), 1)).toBeUndefined();
  writeFileSync(file, unknown);
  expect(() => lookupSlot(dir, 1)).toThrow(StateCorruptError);
});
