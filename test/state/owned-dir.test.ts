// Directories root hands to the run-as user: made or claimed through root's own links only,
// chowned by fd.
import { afterAll, describe, expect, test } from "bun:test";
import { lchownSync, lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import {
  ensureOwnedDirectory,
  refuseUntrustedLinks,
} from "../../src/state/owned-dir.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const SKIP = skipUnless(["root"], "owned-dir tests") ? "skip" : undefined;
const OTHER = { uid: 54321, gid: 54321 };

describe.skipIf(SKIP !== undefined)("ensureOwnedDirectory", () => {
  const dir = SKIP ? "" : makeTempDir("owned-dir");
  afterAll(() => {
    if (dir) removeTempDir(dir);
  });

  test("creates missing parents root's and the directory owner's, with the exact mode", () => {
    const target = join(dir, "a/b/work");
    const result = ensureOwnedDirectory(target, 0o750, OTHER);
    expect(result).toMatchObject({
      created: true,
      chowned: true,
      path: target,
    });
    expect(lstatSync(target)).toMatchObject({ uid: OTHER.uid });
    expect(lstatSync(target).mode & 0o7777).toBe(0o750);
    expect(lstatSync(join(dir, "a/b"))).toMatchObject({ uid: 0 });
  });

  test("an existing directory is only claimed when asked", () => {
    const target = join(dir, "existing");
    mkdirSync(target);
    expect(ensureOwnedDirectory(target, 0o750, OTHER).chowned).toBe(false);
    expect(lstatSync(target).uid).toBe(0);
    const claimed = ensureOwnedDirectory(target, 0o750, OTHER, {
      claimExisting: true,
    });
    expect(claimed.chowned).toBe(true);
    expect(lstatSync(target).uid).toBe(OTHER.uid);
  });

  test("follows root's link in a root-only directory to the real directory", () => {
    const real = join(dir, "real");
    mkdirSync(real);
    symlinkSync(real, join(dir, "via"));
    const result = ensureOwnedDirectory(join(dir, "via"), 0o750, OTHER, {
      claimExisting: true,
    });
    expect(result.path).toBe(real);
    expect(lstatSync(real).uid).toBe(OTHER.uid);
  });

  test("refuses a link someone else owns, at the end or on the way", () => {
    const real = join(dir, "real2");
    mkdirSync(real);
    const link = join(dir, "planted");
    symlinkSync(real, link);
    lchownSync(link, OTHER.uid, OTHER.gid);
    expect(() => ensureOwnedDirectory(link, 0o750, OTHER)).toThrow(/ELOOP/);
    expect(() => ensureOwnedDirectory(join(link, "sub"), 0o750, OTHER)).toThrow(
      /ELOOP/,
    );
    expect(() => refuseUntrustedLinks(join(link, "x/y"))).toThrow(/ELOOP/);
    expect(lstatSync(real).uid).toBe(0);
  });

  test("refuses root's own link inside a directory others may write", () => {
    const shared = join(dir, "shared");
    mkdirSync(shared);
    lchownSync(shared, OTHER.uid, OTHER.gid);
    const real = join(dir, "real3");
    mkdirSync(real);
    symlinkSync(real, join(shared, "work"));
    expect(() =>
      ensureOwnedDirectory(join(shared, "work"), 0o750, OTHER),
    ).toThrow(/ELOOP/);
    expect(lstatSync(real).uid).toBe(0);
  });
});
