// The one-line summaries of the events issue 21 added (MAGCHANGER_EVENT_SUMMARY, a mail's
// subject): which disk to bring and how much room it has, or that a new disk is needed; a disk
// attached or absent longer than [rotation] allows.
import { describe, expect, test } from "bun:test";
import { summarizeEvent } from "../../src/events/types.ts";

const tuesday = { number: 3, name: "Tuesday", label: "t", uuid: "u-3" };
const friday = { number: 5, uuid: "u-5" };
const at = "2026-12-02T00:00:00.000Z";
const MiB = 1024 * 1024;

describe("space-needed", () => {
  const event = (magazines: unknown[], jobs = [{ jobid: 5, name: "b" }]) =>
    summarizeEvent(
      { kind: "space-needed", pool: "Off Site", jobs, magazines, at } as never,
      "mc",
    );

  test("names each disk in the drawer with what it holds for the pool and its space", () => {
    expect(
      event([
        {
          magazine: tuesday,
          appendable: 0,
          recyclable: 2,
          purged: 1,
          unlabeled: 0,
          volumes: ["v1", "v2", "v3"],
          reusableBytes: 25 * MiB,
          freeBytes: 40 * MiB,
          freeAt: at,
        },
        {
          magazine: friday,
          appendable: 1,
          recyclable: 0,
          purged: 0,
          unlabeled: 4,
          volumes: ["w1"],
          reusableBytes: 0,
        },
      ]),
    ).toBe(
      'mc: Bacula needs a volume with space in pool "Off Site" for b JobId 5: attach magazine 3 "Tuesday" (label t, UUID u-3): 3 volumes it may use (2 recyclable, 1 purged; 25.0 MiB to reuse), about 40.0 MiB free; or magazine 5 (UUID u-5): 5 volumes it may use (1 appendable, 4 new that refresh labels)',
    );
  });

  test("no disk holds one: a new disk is needed", () => {
    expect(event([], [])).toBe(
      'mc: Bacula needs a volume with space in pool "Off Site", and no magazine in the drawer holds one: prepare a new disk (`magchanger magazine init`)',
    );
  });
});

describe("rotation", () => {
  test("a disk attached longer than max_days_attached", () => {
    expect(
      summarizeEvent(
        {
          kind: "magazine-attached-too-long",
          magazine: tuesday,
          bay: 1,
          since: at,
          days: 8,
          limitDays: 7,
          at,
        },
        "mc",
      ),
    ).toBe(
      `mc: magazine 3 "Tuesday" (label t, UUID u-3) has been attached in bay 1 for 8 days (since ${at}; [rotation] max_days_attached = 7): the offsite copy is getting old; swap in another disk`,
    );
  });

  test("a disk not seen for longer than max_days_absent", () => {
    expect(
      summarizeEvent(
        {
          kind: "magazine-absent-too-long",
          magazine: friday,
          since: at,
          days: 1,
          limitDays: 1,
          at,
        },
        "mc",
      ),
    ).toBe(
      `mc: magazine 5 (UUID u-5) has not been seen for 1 day (removed ${at}; [rotation] max_days_absent = 1): is it lost or forgotten?`,
    );
  });
});
