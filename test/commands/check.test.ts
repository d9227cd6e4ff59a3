// check's command line: the free-space limits it reads, and every failure turned into the
// plugin's answer (UNKNOWN, or CRITICAL for a corrupt state file).
import { describe, expect, test } from "bun:test";
import { checkFailure, parseSpaceLimit } from "../../src/commands/check.ts";
import {
  ConfigError,
  PluginAnswer,
  StateCorruptError,
  UsageError,
} from "../../src/errors.ts";

describe("parseSpaceLimit", () => {
  test("a percentage of the disk, or a size in bytes with K, M, G, T as powers of 1024", () => {
    expect(parseSpaceLimit("free-warning", "10%")).toEqual({ percent: 10 });
    expect(parseSpaceLimit("free-warning", "2.5%")).toEqual({ percent: 2.5 });
    expect(parseSpaceLimit("free-warning", "500M")).toEqual({
      bytes: 500 * 1024 ** 2,
    });
    expect(parseSpaceLimit("free-warning", "2GiB")).toEqual({
      bytes: 2 * 1024 ** 3,
    });
    expect(parseSpaceLimit("free-warning", "1t")).toEqual({ bytes: 1024 ** 4 });
    expect(parseSpaceLimit("free-warning", "4096")).toEqual({ bytes: 4096 });
  });

  test("anything else is a usage error naming the option and what it takes", () => {
    for (const bad of ["", "ten", "-5%", "101%", "5 P", "5%%"])
      expect(() => parseSpaceLimit("free-critical", bad)).toThrow(
        new UsageError(
          `check: --free-critical ${JSON.stringify(bad)}: give a percentage of the disk (10%) or a size (500M, 2G, bytes)`,
        ),
      );
  });
});

describe("checkFailure", () => {
  const answer = (error: unknown) => checkFailure(error) as PluginAnswer;

  test("a usage or config error is UNKNOWN on stdout, exit 3", () => {
    for (const error of [new UsageError("bad"), new ConfigError("bad")]) {
      expect(answer(error)).toBeInstanceOf(PluginAnswer);
      expect(answer(error).exitCode).toBe(3);
      expect(answer(error).message).toBe("MAGCHANGER UNKNOWN - bad\n");
    }
  });

  test("a corrupt state file is CRITICAL: the changer refuses to work until it is fixed", () => {
    expect(answer(new StateCorruptError("slots is corrupt"))).toMatchObject({
      exitCode: 2,
      message: "MAGCHANGER CRITICAL - slots is corrupt\n",
    });
  });

  test("an internal error is UNKNOWN with its first line; an answer passes through", () => {
    expect(answer(new TypeError("x is undefined\nat y"))).toMatchObject({
      exitCode: 3,
      message: "MAGCHANGER UNKNOWN - internal error: x is undefined\n",
    });
    const given = new PluginAnswer("MAGCHANGER WARNING - w\n", 1);
    expect(checkFailure(given)).toBe(given);
  });
});
