import { describe, expect, test } from "bun:test";
import { reconcileRegistry } from "../../src/changer/reconcile.ts";
import { nullLog } from "../../src/log.ts";
import type { MagazineStatus } from "../../src/disk/discover.ts";
import {
  emptyRegistry,
  type Registry,
  slotCount,
} from "../../src/state/registry.ts";

const A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

function mag(
  uuid: string,
  number: number,
  volumes: string[],
  present = true,
  ignored: string[] = [],
): MagazineStatus {
  return {
    index: number,
    spec: { path: "/bay", allow_unmounted: false },
    where: "/bay",
    mountPoint: "/bay",
    present,
    ...(present
      ? { identity: { uuid, number, changer: "c", lastVolume: 0, created: "" } }
      : {}),
    volumes,
    ignored,
  };
}

function slotsOf(r: Registry): Record<string, number> {
  return Object.fromEntries(
    [...r.slots.values()].map((e) => [e.barcode, e.slot]),
  );
}

describe("reconcileRegistry", () => {
  test("new volumes get consecutive slots in name order", () => {
    const r = emptyRegistry();
    const result = reconcileRegistry(
      r,
      [mag(A, 1, ["c_0001_0002", "c_0001_0001"])],
      nullLog,
    );
    expect(result.changed).toBe(true);
    expect(slotsOf(r)).toEqual({ c_0001_0001: 1, c_0001_0002: 2 });
  });

  test("adding a file never renumbers existing volumes (vchanger renumbers)", () => {
    const r = emptyRegistry();
    reconcileRegistry(r, [mag(A, 1, ["v_b", "v_d"])], nullLog);
    reconcileRegistry(r, [mag(A, 1, ["v_a", "v_b", "v_c", "v_d"])], nullLog);
    expect(slotsOf(r)).toEqual({ v_b: 1, v_d: 2, v_a: 3, v_c: 4 });
  });

  test("an absent magazine keeps its slots across a swap", () => {
    const r = emptyRegistry();
    reconcileRegistry(r, [mag(A, 1, ["a1", "a2"])], nullLog);
    reconcileRegistry(r, [mag(B, 2, ["b1"])], nullLog); // disk A swapped out for B
    reconcileRegistry(r, [mag(A, 1, ["a1", "a2"])], nullLog); // and back
    expect(slotsOf(r)).toEqual({ a1: 1, a2: 2, b1: 3 });
  });

  test("a removed volume's slot is retired, not reused for another volume", () => {
    const r = emptyRegistry();
    reconcileRegistry(r, [mag(A, 1, ["a1", "a2", "a3"])], nullLog);
    const result = reconcileRegistry(
      r,
      [mag(A, 1, ["a1", "a3", "a4"])],
      nullLog,
    );
    expect(result.retired.map((e) => e.slot)).toEqual([2]);
    expect(slotsOf(r)).toEqual({ a1: 1, a3: 3, a4: 4 });
    expect(r.retired.get(2)).toBe("a2");
    expect(slotCount(r)).toBe(4);
  });

  test("a volume that comes back gets its old slot", () => {
    const r = emptyRegistry();
    reconcileRegistry(r, [mag(A, 1, ["a1", "a2"])], nullLog);
    reconcileRegistry(r, [mag(A, 1, ["a1"])], nullLog);
    reconcileRegistry(r, [mag(A, 1, ["a1", "a2"])], nullLog);
    expect(slotsOf(r)).toEqual({ a1: 1, a2: 2 });
    expect(r.retired.size).toBe(0);
  });

  test("a volume moved between two present disks keeps its slot", () => {
    const r = emptyRegistry();
    reconcileRegistry(r, [mag(A, 1, ["x", "y"]), mag(B, 2, [])], nullLog);
    reconcileRegistry(r, [mag(A, 1, ["x"]), mag(B, 2, ["y"])], nullLog);
    expect(r.slots.get(2)).toEqual({ slot: 2, magazine: B, barcode: "y" });
  });

  test("the same barcode on a second magazine is ignored and reported once", () => {
    const r = emptyRegistry();
    const warnings: string[] = [];
    const log = { ...nullLog, warn: (m: string) => warnings.push(m) };
    reconcileRegistry(r, [mag(A, 1, ["dup"])], log);
    reconcileRegistry(r, [mag(A, 1, ["dup"], false), mag(B, 2, ["dup"])], log);
    const again = reconcileRegistry(r, [mag(B, 2, ["dup"])], log);
    expect(slotsOf(r)).toEqual({ dup: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("barcode dup on magazine 2");
    expect(again.changed).toBe(false);
  });

  test("files that are not volumes are logged once, then remembered", () => {
    const r = emptyRegistry();
    const warnings: string[] = [];
    const log = { ...nullLog, warn: (m: string) => warnings.push(m) };
    reconcileRegistry(r, [mag(A, 1, ["v1"], true, ["README.txt:x"])], log);
    const second = reconcileRegistry(
      r,
      [mag(A, 1, ["v1"], true, ["README.txt:x"])],
      log,
    );
    expect(warnings).toHaveLength(1);
    expect(second.changed).toBe(false);
  });

  test("nothing present: nothing changes", () => {
    const r = emptyRegistry();
    reconcileRegistry(r, [mag(A, 1, ["a"])], nullLog);
    expect(reconcileRegistry(r, [mag(A, 1, [], false)], nullLog).changed).toBe(
      false,
    );
    expect(slotsOf(r)).toEqual({ a: 1 });
  });
});
