// Days in a bay or out of one, from magazines.json's attachedAt and removedAt (changer/magazine-age.ts).
import { expect, test } from "bun:test";
import { magazineAge } from "../../src/changer/magazine-age.ts";

const now = new Date("2026-03-10T12:00:00.000Z");

test("an attached magazine: days since it arrived; one in the drawer: days since it left", () => {
  expect(
    magazineAge(
      {
        attached: true,
        attachedAt: "2026-03-08T00:00:00.000Z",
        removedAt: "2026-01-01T00:00:00.000Z",
      },
      now,
    ),
  ).toEqual({ attachedDays: 2.5 });
  expect(
    magazineAge(
      {
        attached: false,
        attachedAt: "2026-01-01T00:00:00.000Z",
        removedAt: "2026-03-09T12:00:00.000Z",
      },
      now,
    ),
  ).toEqual({ absentDays: 1 });
});

test("a time never recorded, unreadable or in the future (a clock step) gives no days", () => {
  expect(magazineAge({ attached: true }, now)).toEqual({});
  expect(magazineAge({ attached: false, removedAt: "yesterday" }, now)).toEqual(
    {},
  );
  expect(
    magazineAge(
      { attached: true, attachedAt: "2026-03-11T00:00:00.000Z" },
      now,
    ),
  ).toEqual({});
});
