// [rotation] (issue 21): optional, each key optional, whole days; a wrong value names the key
// and what it allows, in the file's words, as every config error does.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig, parseConfigText } from "../../src/config/load.ts";

const base = 'name = "a"\n[[magazine]]\npath = "/b"\n';

test("[rotation] is optional, and so is each of its keys", () => {
  expect(parseConfigText(base, "/etc/x.toml").rotation).toBeUndefined();
  expect(
    parseConfigText(
      `${base}[rotation]\nmax_days_attached = 7\nmax_days_absent = 30\n`,
      "/etc/x.toml",
    ).rotation,
  ).toEqual({ max_days_attached: 7, max_days_absent: 30 });
  expect(
    parseConfigText(`${base}[rotation]\nmax_days_absent = 1\n`, "/etc/x.toml")
      .rotation,
  ).toEqual({ max_days_absent: 1 });
});

test("the commented example in conf/ documents [rotation] and loads without it", () => {
  const path = join(import.meta.dir, "../../conf/magchanger.toml");
  expect(loadConfig(path).rotation).toBeUndefined();
  const text = require("node:fs").readFileSync(path, "utf8") as string;
  const example = text
    .split("\n")
    .filter((l) => /^# (\[rotation\]|max_days_)/.test(l))
    .map((l) => l.slice(2))
    .join("\n");
  expect(
    parseConfigText(`${base}${example}\n`, "/etc/x.toml").rotation,
  ).toEqual({ max_days_attached: 8, max_days_absent: 30 });
});

test.each([
  [
    "max_days_attached = 0",
    "config /etc/x.toml: rotation.max_days_attached: must be a whole number of days 1..3650; got 0",
  ],
  [
    "max_days_absent = 1.5",
    "config /etc/x.toml: rotation.max_days_absent: must be a whole number of days 1..3650; got 1.5",
  ],
  [
    'max_days_absent = "30"',
    'config /etc/x.toml: rotation.max_days_absent: must be a whole number of days 1..3650; got "30"',
  ],
  [
    "max_days = 3",
    "config /etc/x.toml: rotation: unknown key max_days; allowed: max_days_attached, max_days_absent",
  ],
])("%s: one line naming the key and what it allows", (line, message) => {
  expect(() =>
    parseConfigText(`${base}[rotation]\n${line}\n`, "/etc/x.toml"),
  ).toThrow(message);
});
