// Protocol commands print only protocol lines, so what they did goes to the changer log: one
// line per call with its result and time (at debug), and every failure (at error).
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestChanger } from "../helpers/changer.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("changer-log");
afterAll(() => removeTempDir(dir));

test("each protocol call is logged with its outcome; failures at error level", async () => {
  mkdirSync(join(dir, "bay"));
  const changer = new TestChanger(dir, {
    name: "lg",
    logLevel: "debug",
    bays: [{ path: join(dir, "bay"), allowUnmounted: true }],
  });
  await changer.init(1, 2);
  expect((await changer.sd("load", 1, 0)).exitCode).toBe(0);
  expect((await changer.sd("loaded", 0, 0)).stdout).toBe("1\n");
  expect((await changer.sd("load", 7, 1)).exitCode).toBe(1);
  const log = readFileSync(changer.logFile, "utf8");
  expect(log).toMatch(
    / debug: changer load 1 \S+drive0 0: ok \(\d+\.\d ms\)\n/,
  );
  expect(log).toMatch(
    / debug: changer loaded 0 \S+drive0 0: ok \(\d+\.\d ms\)\n/,
  );
  expect(log).toMatch(
    / error: changer load 7 \S+drive1 1: slot 7 is out of range: the changer has slots 1\.\.2\n/,
  );
});
