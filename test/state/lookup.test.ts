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
