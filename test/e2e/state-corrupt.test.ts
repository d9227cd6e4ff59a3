// Corrupt or odd state in the work dir is refused in bounded time with exit 6 and one line,
// never "repaired" into something else, and never hangs `loaded` (run on every volume open).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { serializeRegistry } from "../../src/state/registry.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { TestChanger } from "../helpers/changer.ts";
import { tool } from "../helpers/run.ts";
import { expectFailure } from "../helpers/expect.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeTempDir));

let changer: TestChanger;
let volumes: string[];

beforeEach(async () => {
  const dir = makeTempDir("corrupt");
  dirs.push(dir);
  const bay = join(dir, "bay1");
  mkdirSync(bay);
  changer = new TestChanger(dir, {
    name: "cs1",
    drives: 2,
    bays: [{ path: bay, allowUnmounted: true }],
  });
  volumes = await changer.init(1, 4);
});

const drivesFile = () => join(changer.workDir, "drives.json");
const slotsFile = () => join(changer.workDir, "slots");

/** Every file of the work dir, by name, as bytes (links as their target). */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["slots", "drives.json", "drive0", "drive1"]) {
    try {
      out[name] = readFileSync(join(changer.workDir, name), "latin1");
    } catch (error) {
      out[name] = `(${(error as NodeJS.ErrnoException).code})`;
    }
  }
  return out;
}

/** The 0.1 form (no checksum), so the field checks behind the checksum are what is tested. */
function asVersion1(state: { version: number; crc?: string }) {
  const { crc: _crc, ...rest } = state;
  return { ...rest, version: 1 };
}

describe("drive state that cannot be ours", () => {
  test("a flipped digit in drives.json is corrupt (checksum), not another loaded slot", async () => {
    expect((await changer.sd("load", 2, 0)).exitCode).toBe(0);
    const text = readFileSync(drivesFile(), "utf8");
    writeFileSync(drivesFile(), text.replace('"slot": 2', '"slot": 3'));
    expectFailure(
      await changer.sd("loaded", 0, 0),
      6,
      /drives\.json is corrupt \(checksum mismatch: edited or damaged\)/,
    );
  });

  test("one slot in two drives is corrupt (exit 6) for loaded, list and load", async () => {
    expect((await changer.sd("load", 2, 0)).exitCode).toBe(0);
    const state = JSON.parse(readFileSync(drivesFile(), "utf8"));
    state.drives[1] = { ...state.drives[0], drive: 1 };
    writeFileSync(drivesFile(), JSON.stringify(asVersion1(state)));
    const before = snapshot();
    for (const args of [
      ["loaded", 0, 1],
      ["list", 0, 0],
      ["load", 3, 0],
    ] as const) {
      expectFailure(
        await changer.sd(args[0], args[1], args[2]),
        6,
        /drive state .*drives\.json is corrupt \(slot 2 in drives 0 and 1\)/,
      );
    }
    expect(snapshot()).toEqual(before);
  });

  test("a target outside every magazine (/etc/passwd) is corrupt and no link is 'repaired' to it", async () => {
    expect((await changer.sd("load", 2, 0)).exitCode).toBe(0);
    const state = JSON.parse(readFileSync(drivesFile(), "utf8"));
    state.drives[0].target = "/etc/passwd";
    writeFileSync(drivesFile(), JSON.stringify(asVersion1(state)));
    expectFailure(
      await changer.sd("list", 0, 0),
      6,
      /drives\.json is corrupt \(bad entry for drive 0\)/,
    );
    expect(readFileSync(join(changer.workDir, "drive0"), "utf8")).not.toContain(
      "root:",
    );
  });

  test("drives.json as a FIFO, a link to /dev/zero or a directory: exit 6 at once", async () => {
    for (const plant of [
      () => Bun.spawnSync(["mkfifo", drivesFile()]),
      () => symlinkSync("/dev/zero", drivesFile()),
      () => mkdirSync(drivesFile()),
    ]) {
      rmSync(drivesFile(), { recursive: true, force: true });
      plant();
      const result = await changer.sd("loaded", 0, 0, { timeoutMs: 10_000 });
      expectFailure(result, 6, /drive state .*drives\.json is corrupt/);
      expect(result.ms).toBeLessThan(10_000);
    }
  });
});

describe("the slot registry", () => {
  test("a registry truncated at a line boundary is corrupt: no volume moves to another slot", async () => {
    const text = readFileSync(slotsFile(), "utf8");
    const lines = text.split("\n");
    writeFileSync(
      slotsFile(),
      lines.filter((l) => !l.startsWith("S 2 ")).join("\n"),
    );
    const before = snapshot();
    expectFailure(
      await changer.sd("list", 0, 0),
      6,
      /slot registry .* is corrupt/,
    );
    expectFailure(
      await changer.sd("load", 3, 0),
      6,
      /slot registry .* is corrupt/,
    );
    expect(snapshot()).toEqual(before);
  });

  test("a registry that is a dangling link is corrupt, not 'no registry'", async () => {
    rmSync(slotsFile());
    symlinkSync(join(changer.workDir, "elsewhere"), slotsFile());
    expectFailure(
      await changer.sd("list", 0, 0),
      6,
      /slot registry .* is corrupt/,
    );
    expectFailure(
      await changer.sd("load", 1, 0),
      6,
      /slot registry .* is corrupt/,
    );
  });

  test("a rewritten registry with a valid end line is read as written", async () => {
    const registry = changer.readRegistry();
    writeFileSync(slotsFile(), serializeRegistry(registry));
    expect((await changer.sd("list", 0, 0)).stdout).toBe(
      volumes.map((v, i) => `${i + 1}:${v}\n`).join(""),
    );
  });
});

describe("the drive links", () => {
  test("a regular file where drive0's link should be is refused, kept, and named", async () => {
    rmSync(join(changer.workDir, "drive0"), { force: true });
    writeFileSync(join(changer.workDir, "drive0"), "label written by the SD");
    expectFailure(
      await changer.sd("load", 1, 0),
      6,
      /drive0 is a regular file of 23 bytes \(perhaps data Bacula wrote there\), not the symbolic link magchanger keeps there/,
    );
    expect(readFileSync(join(changer.workDir, "drive0"), "utf8")).toBe(
      "label written by the SD",
    );
  });
});

describe.skipIf(skipUnless(["root", "tool:mount"], "read-only work dir"))(
  "a read-only work dir",
  () => {
    test("list, listall and slots still answer (the lock opens read-only); load fails naming the state file", async () => {
      expect((await changer.sd("list", 0, 0)).exitCode).toBe(0); // makes the drive links
      rmSync(join(changer.workDir, "listing.cache"), { force: true });
      tool(["mount", "--bind", changer.workDir, changer.workDir]);
      try {
        tool(["mount", "-o", "remount,ro,bind", changer.workDir]);
        expect((await changer.sd("slots", 0, 0)).stdout).toBe("4\n");
        expect((await changer.sd("list", 0, 0)).exitCode).toBe(0);
        expect((await changer.sd("listall", 0, 0)).exitCode).toBe(0);
        expectFailure(
          await changer.sd("load", 1, 0),
          5,
          /^magchanger: cannot write .*: EROFS \(read-only file system\)/,
        );
      } finally {
        tool(["umount", changer.workDir]);
      }
    });
  },
);
