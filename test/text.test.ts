// The one set of characters every writer escapes (text.ts): C0, DEL, C1 and the bidi controls.
// Text keeps its newlines as line ends; JSON writes each of them as a \u escape and stays JSON.
import { describe, expect, test } from "bun:test";
import { jsonText, printable, printableLines } from "../src/text.ts";

const EVERY =
  "a\u0000\u0007\t\r\u001b\u007f\u0085\u009b\u061c\u200e\u200f\u2028\u2029\u202a\u202e\u2066\u2069z";

describe("printable and printableLines", () => {
  test("every control, DEL, C1 and bidi character becomes a visible escape", () => {
    expect(printable(EVERY)).toBe(
      "a\\x00\\x07\\t\\r\\x1b\\x7f\\x85\\x9b\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a\\u202e\\u2066\\u2069z",
    );
  });

  test("printableLines escapes the same, but a newline stays the end of a line", () => {
    expect(printableLines(`${EVERY}\nsecond\u009b\n`)).toBe(
      `${printable(EVERY)}\nsecond\\x9b\n`,
    );
    expect(printable("a\nb")).toBe("a\\nb");
  });

  test("plain text, accents and other scripts are left alone", () => {
    const text = "Grüße, 東京, émoji 🙂 ~!@#$%^&*()";
    expect(printable(text)).toBe(text);
    expect(printableLines(`${text}\n`)).toBe(`${text}\n`);
  });
});

describe("jsonText", () => {
  test("writes what printable escapes as \\u escapes, and stays JSON of the same value", () => {
    const value = { name: EVERY, list: ["x\u009by"] };
    const text = jsonText(value, 2);
    expect(text).not.toMatch(
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/,
    );
    expect(text).toContain("\\u009b");
    expect(text).toContain("\\u202e");
    expect(text).toContain("\\u007f");
    expect(JSON.parse(text)).toEqual(value);
  });

  test("is JSON.stringify where nothing needs escaping", () => {
    const value = { a: [1, "b", null], c: { d: "é" } };
    expect(jsonText(value)).toBe(JSON.stringify(value));
    expect(jsonText(value, 2)).toBe(JSON.stringify(value, null, 2));
  });
});
