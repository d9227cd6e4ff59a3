// readIdentity, sortEntries and the vchanger 0.8 line files over a temp directory standing in for
// a disk (no root needed): what a disk's owner can plant there (a FIFO, a link, a huge file, a
// link as the identity entry) is refused at once, by what it is, never by what it holds.
import { afterAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  readdirSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { sortEntries } from "../../src/disk/discover.ts";
import {
  identityDir,
  identityFile,
  readIdentity,
  serializeIdentity,
} from "../../src/disk/identity.ts";
import { readIndex, readLoaded } from "../../src/disk/vchanger08.ts";
import { tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const UUID = "0b7f0000-0000-4000-8000-000000000001";
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

/** A "disk" with an identity directory whose magazine.json is made by plant. */
function disk(plant: (file: string) => void): string {
  const mount = makeTempDir("identity-unit");
  dirs.push(mount);
  mkdirSync(identityDir(mount, UUID));
  plant(identityFile(mount, UUID));
  return mount;
}

describe("readIdentity on a disk its owner controls", () => {
  test("a valid identity is read", () => {
    const identity = {
      uuid: UUID,
      changer: "c1",
      number: 3,
      lastVolume: 2,
      created: "2026-01-01T00:00:00.000Z",
    };
    const mount = disk((f) => writeFileSync(f, serializeIdentity(identity)));
    expect(readIdentity(mount, UUID)).toEqual(identity);
  });

  test("a FIFO is refused at once as a FIFO", () => {
    const mount = disk((f) => tool(["mkfifo", "--", f]));
    const started = performance.now();
    expect(readIdentity(mount, UUID)).toMatch(/ENOTREG: .*a FIFO/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a link (to /dev/zero, or to a secret) is not followed and its target's text never shown", () => {
    const secretDir = makeTempDir("identity-secret");
    dirs.push(secretDir);
    const secret = join(secretDir, "token");
    writeFileSync(secret, "SECRETTOKEN42\n");
    for (const target of ["/dev/zero", secret]) {
      const mount = disk((f) => symlinkSync(target, f));
      const reason = readIdentity(mount, UUID);
      expect(reason).toMatch(/ELOOP: a symbolic link/);
      expect(reason).not.toContain("SECRETTOKEN42");
    }
  });

  test("text that is not JSON is reported without quoting it", () => {
    const mount = disk((f) => writeFileSync(f, "SECRETTOKEN42\n"));
    const reason = readIdentity(mount, UUID);
    expect(reason).toMatch(/is not valid JSON/);
    expect(reason).not.toContain("SECRETTOKEN42");
  });

  test("a huge file is refused by its size", () => {
    const mount = disk((f) => {
      writeFileSync(f, "");
      truncateSync(f, 64 * 1024 * 1024);
    });
    expect(readIdentity(mount, UUID)).toMatch(/EFBIG: \d+ bytes, more than/);
  });

  test("an identity entry that is a link to a directory is refused, and sortEntries says so", () => {
    const mount = makeTempDir("identity-unit");
    const elsewhere = makeTempDir("identity-elsewhere");
    dirs.push(mount, elsewhere);
    symlinkSync(elsewhere, identityDir(mount, UUID));
    expect(readIdentity(mount, UUID)).toMatch(/is not a directory.*ELOOP/);
    const sorted = sortEntries(readdirSync(mount, { withFileTypes: true }));
    expect(sorted.identities).toEqual([UUID]);
    expect(sorted.notDirectories).toEqual([UUID]);
  });
});

describe("vchanger 0.8 line files on a disk", () => {
  test("index and loadedN as FIFOs are refused at once; index text is escaped", () => {
    const mount = makeTempDir("vchanger08-unit");
    dirs.push(mount);
    tool(["mkfifo", "--", join(mount, "index")]);
    tool(["mkfifo", "--", join(mount, "loaded0")]);
    expect(readIndex(mount)).toMatch(/cannot read .*index: ENOTREG/);
    expect(readLoaded(mount, 0)).toBeUndefined();
    const other = makeTempDir("vchanger08-unit");
    dirs.push(other);
    writeFileSync(join(other, "index"), "\u001b[2Jx\n");
    expect(readIndex(other)).toContain('holds "\\x1b[2Jx"');
  });
});
