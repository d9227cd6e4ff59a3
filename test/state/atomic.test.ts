import { afterAll, expect, test } from "bun:test";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StateWriteError } from "../../src/errors.ts";
import {
  replaceSymlink,
  spaceHint,
  writeFileAtomic,
} from "../../src/state/atomic.ts";

const dir = mkdtempSync(join(tmpdir(), "magchanger-atomic-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("writeFileAtomic replaces the content and leaves no temp file", () => {
  const file = join(dir, "state");
  writeFileSync(file, "old\n");
  writeFileAtomic(file, "new\n");
  expect(readFileSync(file, "utf8")).toBe("new\n");
  expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
});

test("a failed write keeps the previous file and names the path and cause", () => {
  const file = join(dir, "busy");
  mkdirSync(file); // rename onto a directory fails like any late write error
  writeFileSync(join(file, "keep"), "x");
  let error: unknown;
  try {
    writeFileAtomic(file, "new\n");
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StateWriteError);
  expect((error as Error).message).toMatch(
    new RegExp(
      `^cannot write ${file}: E[A-Z]+ .*the previous state is unchanged$`,
    ),
  );
  expect(readFileSync(join(file, "keep"), "utf8")).toBe("x");
  expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
});

test("replaceSymlink swaps a link atomically and is a no-op when it already points there", () => {
  const link = join(dir, "drive0");
  replaceSymlink(link, "/dev/null/empty");
  replaceSymlink(link, "/somewhere/vol1");
  const before = lstatSync(link).ino;
  replaceSymlink(link, "/somewhere/vol1");
  expect(readlinkSync(link)).toBe("/somewhere/vol1");
  expect(lstatSync(link).ino).toBe(before);
});

test("spaceHint reports free blocks for the current user", () => {
  expect(spaceHint(dir)).toMatch(/blocks|reserved/);
});
