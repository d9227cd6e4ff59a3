// The changer log: never through a link, and every message one printable, capped line (file
// names from a disk must not forge log lines or flood the file).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFileLog, MAX_LOG_MESSAGE } from "../src/log.ts";
import { makeTempDir, removeTempDir } from "./helpers/tmp.ts";

const dir = makeTempDir("log");
afterAll(() => removeTempDir(dir));

describe("createFileLog", () => {
  test("escapes control characters, so a name cannot forge a line or reach a terminal raw", () => {
    const file = join(dir, "escape.log");
    const log = createFileLog(file, "info", "t");
    log.info("volume \x1b[2Jx\x07\n2026-01-01T00:00:00Z t[1] error: forged");
    log.close();
    const text = readFileSync(file, "utf8");
    expect(text.split("\n").filter(Boolean)).toHaveLength(1);
    expect(text).toContain("volume \\x1b[2Jx\\x07\\n2026");
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
  });

  test("caps a message at MAX_LOG_MESSAGE characters", () => {
    const file = join(dir, "cap.log");
    const log = createFileLog(file, "info", "t");
    log.info("x".repeat(MAX_LOG_MESSAGE * 4));
    log.close();
    const text = readFileSync(file, "utf8");
    expect(text.length).toBeLessThan(MAX_LOG_MESSAGE + 200);
    expect(text).toContain("more characters cut");
  });

  test("does not write through a symbolic link, and says why", () => {
    const target = join(dir, "target");
    const link = join(dir, "link.log");
    symlinkSync(target, link);
    const log = createFileLog(link, "info", "t");
    log.info("hello");
    log.close();
    expect(existsSync(target)).toBe(false);
    expect(log.failure).toContain("ELOOP");
    writeFileSync(target, "");
    const again = createFileLog(link, "info", "t");
    again.info("hello");
    expect(readFileSync(target, "utf8")).toBe("");
  });
});
