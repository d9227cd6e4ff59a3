// Crash safety: load and unload killed with SIGKILL at random points, many times. Afterwards
// the state files parse, `loaded` answers, the lock is free (the kernel drops a dead holder's
// flock), and after the next locked command the drive links agree with the state again.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDrives } from "../../src/state/drives.ts";
import { parseRegistry } from "../../src/state/registry.ts";
import { TestChanger } from "../helpers/changer.ts";
import { cleanOutcome, expectSuccess } from "../helpers/expect.ts";
import { lockIsFree } from "../helpers/lock.ts";
import { seededRandom } from "../helpers/random.ts";
import { spawnBinary } from "../helpers/run.ts";
import { driveProblems, listallProblems } from "../helpers/state.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

function stateParses(changer: TestChanger): string[] {
  const problems: string[] = [];
  for (const [name, parse] of [
    ["drives.json", parseDrives],
    ["slots", parseRegistry],
  ] as const) {
    const path = join(changer.workDir, name);
    try {
      parse(readFileSync(path, "utf8"), path);
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
    }
  }
  return problems;
}

describe("kill -9 during load and unload", () => {
  test("100 load/unload calls killed at random points leave parseable state, a free lock and consistent drives", async () => {
    const dir = makeTempDir("crash");
    dirs.push(dir);
    const bay = join(dir, "bay");
    mkdirSync(bay);
    const changer = new TestChanger(dir, {
      name: "cr1",
      drives: 2,
      bays: [{ path: bay, allowUnmounted: true }],
    });
    await changer.init(1, 4);
    expectSuccess(await changer.sd("load", 1, 0));
    // Kill anywhere in the life of a call, from exec to exit (a call takes ~40-60 ms here; the
    // cap keeps a busy machine from stretching the test).
    const durations: number[] = [];
    for (let i = 0; i < 3; i++)
      durations.push((await changer.sd(i % 2 ? "unload" : "load", 2, 1)).ms);
    const maxDelay = Math.min(
      100,
      Math.max(30, Math.ceil(Math.min(...durations) * 1.2)),
    );
    const random = seededRandom(
      Number(process.env.MAGCHANGER_TEST_SEED ?? Date.now() % 100_000),
    );
    const lock = join(changer.workDir, "lock");
    let completed = 0;
    for (let i = 0; i < 100; i++) {
      const drive = random(2);
      const before = changer.readDrives()[drive]?.slot ?? 0;
      const slot = 1 + random(4);
      const command = random(3) === 0 ? "unload" : "load";
      const child = spawnBinary([
        "changer",
        changer.conf,
        command,
        String(slot),
        changer.driveLink(drive),
        String(drive),
      ]);
      await Bun.sleep(random(maxDelay + 1));
      child.kill("SIGKILL");
      if ((await child.exited) !== 137 && child.signalCode === null)
        completed += 1;
      const where = `iteration ${i}: ${command} ${slot} ${drive}`;
      expect({ where, problems: stateParses(changer) }).toEqual({
        where,
        problems: [],
      });
      expect({ where, free: lockIsFree(lock) }).toEqual({ where, free: true });
      // Lockless, right after the crash: the old slot, the new one, or 0 (link and state disagree).
      const loaded = await changer.sd("loaded", 0, drive);
      expect(cleanOutcome(loaded)).toBeUndefined();
      expect([
        `${before}\n`,
        `${command === "load" ? slot : 0}\n`,
        "0\n",
      ]).toContain(loaded.stdout);
      // The next locked command repairs the links from the state.
      const listall = await changer.sd("listall", 0, 0);
      expect(cleanOutcome(listall)).toBeUndefined();
      expect(listallProblems(listall.stdout, 2)).toEqual([]);
      expect({ where, problems: driveProblems(changer) }).toEqual({
        where,
        problems: [],
      });
    }
    // listall may be answered from the listing cache without the lock (a kill between the temp
    // link and its rename leaves link and state agreeing), so end with calls that always lock.
    for (const drive of [0, 1])
      expect(
        cleanOutcome(await changer.sd("unload", 0, drive)),
      ).toBeUndefined();
    const leftovers = readdirSync(changer.workDir).filter((name) =>
      name.includes(".tmp-"),
    );
    console.info(
      `crash test: ${100 - completed} of 100 calls killed before exit (delay 0..${maxDelay} ms); ${leftovers.length} temp files left`,
    );
    // A killed writer may leave its temp file, never a half-written state file; the next
    // locked command removes it.
    expect(leftovers).toEqual([]);
  }, 240_000);
});
