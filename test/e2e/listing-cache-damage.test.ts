// A damaged listing cache is never served: whatever listing.cache holds (a header of the wrong
// shape, a body cut short or edited in place), list/listall/slots answer what a full scan
// answers, with exit 0 and nothing on stderr, and the next locked scan rewrites the cache. An
// in-place edit of a magazine's identity (no directory entry changes) is seen like the scan sees it.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import { holdLock } from "../helpers/lock.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

let changer: TestChanger;
let bay: string;
let volumes: string[];
const hour = Date.now() / 1000 - 3600;
const cacheFile = () => join(changer.workDir, "listing.cache");
const cacheText = () => readFileSync(cacheFile(), "latin1");
const putCache = (text: string) =>
  writeFileSync(cacheFile(), Buffer.from(text, "latin1"));

beforeEach(async () => {
  const dir = makeTempDir("listing-cache-damage");
  dirs.push(dir);
  bay = join(dir, "bay1");
  mkdirSync(bay);
  changer = new TestChanger(dir, {
    name: "ld",
    lockTimeout: 0.3,
    bays: [{ path: bay, allowUnmounted: true }],
  });
  volumes = await changer.init(1, 3);
  utimesSync(bay, hour, hour);
  // The first list stores the cache; it must exist for the damage to mean anything.
  expect((await changer.sd("list", 0, 0)).exitCode).toBe(0);
  expect(cacheText().length).toBeGreaterThan(0);
});

const pristine = () => listOutput(3, slotsOf(volumes));

/** Each rewrites the stored cache text into a damaged one. */
const DAMAGES: Record<string, (text: string) => string> = {
  "header null": (t) => `null\n${t.slice(t.indexOf("\n") + 1)}`,
  "bays null": (t) => t.replace(/"bays":\[[^\]]*\]/, '"bays":null'),
  "header a number": (t) => `3\n${t.slice(t.indexOf("\n") + 1)}`,
  "header only": (t) => t.slice(0, t.indexOf("\n") + 1),
  "no newline at all": (t) => t.slice(0, t.indexOf("\n")),
  "body truncated mid-line": (t) => t.slice(0, t.indexOf("\n") + 6),
  "body truncated at a line end": (t) =>
    t.slice(0, t.indexOf("\n", t.indexOf("\n") + 1) + 1),
  "a barcode edited in place": (t) => t.replace("ld_0001_0002", "ld_0001_0009"),
  "slot numbers swapped in place": (t) =>
    t.replace("1:ld_0001_0001", "3:ld_0001_0001"),
};

describe("a damaged listing cache", () => {
  for (const [name, damage] of Object.entries(DAMAGES)) {
    test(`${name}: list, listall and slots answer what the full scan answers`, async () => {
      putCache(damage(cacheText()));
      expect(await changer.sd("list", 0, 0)).toMatchObject({
        exitCode: 0,
        stdout: pristine(),
        stderr: "",
      });
      putCache(damage(cacheText()));
      expect(await changer.sd("slots", 0, 0)).toMatchObject({
        exitCode: 0,
        stdout: "3\n",
        stderr: "",
      });
      putCache(damage(cacheText()));
      expect(await changer.sd("listall", 0, 0)).toMatchObject({
        exitCode: 0,
        stdout: `D:0:E\nD:1:E\nS:1:F:${volumes[0]}\nS:2:F:${volumes[1]}\nS:3:F:${volumes[2]}\n`,
        stderr: "",
      });
    });
  }

  test("a damaged cache is rescanned under the lock and rewritten whole", async () => {
    const good = cacheText();
    putCache(DAMAGES["body truncated mid-line"]?.(good) ?? "");
    const holder = await holdLock(join(changer.workDir, "lock"));
    try {
      // Not served: the call needs the lock to rescan, and the lock is held.
      expect((await changer.sd("list", 0, 0)).exitCode).toBe(4);
    } finally {
      holder.kill();
    }
    expect((await changer.sd("list", 0, 0)).stdout).toBe(pristine());
    expect(cacheText()).toBe(good);
  });
});

describe("the listing cache and a magazine's identity edited in place", () => {
  const identityFile = () => {
    const id = readdirSync(bay).find((n) => n.startsWith(".magchanger-"));
    return join(bay, id as string, "magazine.json");
  };

  test("an identity that no longer names this changer makes the bay absent at once", async () => {
    const file = identityFile();
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace('"changer": "ld"', '"changer": "lx"'));
    utimesSync(bay, hour, hour); // the bay's own entries did not change
    expect(await changer.sd("list", 0, 0)).toMatchObject({
      exitCode: 0,
      stdout: "1:\n2:\n3:\n",
      stderr: "",
    });
  });

  test("an identity repaired in place brings the bay back at once", async () => {
    const file = identityFile();
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace('"changer": "ld"', '"changer": "lx"'));
    utimesSync(file, hour, hour);
    rmSync(cacheFile());
    expect((await changer.sd("list", 0, 0)).stdout).toBe("1:\n2:\n3:\n");
    writeFileSync(file, text);
    utimesSync(file, hour, hour);
    utimesSync(bay, hour, hour);
    expect((await changer.sd("list", 0, 0)).stdout).toBe(pristine());
  });
});
