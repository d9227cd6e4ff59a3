// DESIGN property 5: concurrent invocations (several drives, bconsole refreshes, udev) are
// serialized per changer by a lock the kernel frees when its holder dies; the wait is bounded
// with a clear error, and changers never wait on each other. Also property 2 under load: no
// slot is ever in two drives.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDrives } from "../../src/state/drives.ts";
import { parseRegistry } from "../../src/state/registry.ts";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import {
  cleanOutcome,
  expectFailure,
  expectSuccess,
} from "../helpers/expect.ts";
import { holdLock } from "../helpers/lock.ts";
import { seededRandom } from "../helpers/random.ts";
import type { RunResult } from "../helpers/run.ts";
import { driveProblems, listallProblems } from "../helpers/state.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

async function newChanger(
  name: string,
  drives: number,
  volumes: number,
  lockTimeout = 60,
): Promise<{ changer: TestChanger; vols: string[] }> {
  const dir = makeTempDir("concurrency");
  dirs.push(dir);
  const bay = join(dir, "bay");
  mkdirSync(bay);
  const changer = new TestChanger(dir, {
    name,
    drives,
    lockTimeout,
    bays: [{ path: bay, allowUnmounted: true }],
  });
  return { changer, vols: await changer.init(1, volumes) };
}

/** Reads and checks the state files over and over until stopped: they must always parse. */
function watchState(changer: TestChanger): { stop: () => Promise<string[]> } {
  const problems: string[] = [];
  let running = true;
  let reads = 0;
  // Absent until the first write (no state = every drive empty); once there, never missing.
  const seen = new Set<string>();
  const loop = (async () => {
    while (running) {
      for (const [name, parse] of [
        ["drives.json", parseDrives],
        ["slots", parseRegistry],
      ] as const) {
        const path = join(changer.workDir, name);
        try {
          let text: string;
          try {
            text = readFileSync(path, "utf8");
            seen.add(name);
          } catch (error) {
            if (
              (error as NodeJS.ErrnoException).code === "ENOENT" &&
              !seen.has(name)
            )
              continue;
            throw error;
          }
          const parsed = parse(text, path);
          if (name === "drives.json") {
            const slots = (parsed as ReturnType<typeof parseDrives>).flatMap(
              (d) => (d ? [d.slot] : []),
            );
            if (new Set(slots).size !== slots.length)
              problems.push(`a slot in two drives: ${JSON.stringify(slots)}`);
          }
        } catch (error) {
          problems.push(`${name}: ${(error as Error).message}`);
        }
      }
      reads += 1;
      await Bun.sleep(1);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      expect(reads).toBeGreaterThan(0);
      return problems;
    },
  };
}

describe("simultaneous calls on one changer", () => {
  test("3 rounds of 48 simultaneous load/unload/list/loaded calls over 4 drives and 6 slots: never one slot in two drives, every call clean", async () => {
    const { changer, vols } = await newChanger("cc1", 4, 6);
    const list = listOutput(6, slotsOf(vols));
    const random = seededRandom(
      Number(process.env.MAGCHANGER_TEST_SEED ?? Date.now() % 100_000),
    );
    const failures = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      const watcher = watchState(changer);
      const calls: Promise<[string, RunResult]>[] = [];
      for (let i = 0; i < 48; i++) {
        const drive = random(4);
        const pick = random(20);
        const [command, slot] =
          pick < 8
            ? ["load", 1 + random(6)]
            : pick < 13
              ? ["unload", 0]
              : pick < 16
                ? ["loaded", 0]
                : pick < 18
                  ? ["list", 0]
                  : ["listall", 0];
        calls.push(
          changer
            .sd(command, slot, drive)
            .then((r) => [`${command} ${slot} ${drive}`, r]),
        );
      }
      const results = await Promise.all(calls);
      expect(await watcher.stop()).toEqual([]);
      for (const [call, result] of results) {
        expect({ call, problem: cleanOutcome(result) }).toEqual({
          call,
          problem: undefined,
        });
        if (result.exitCode !== 0) {
          expect(result.stderr).toMatch(
            /^magchanger: slot \d+ is already loaded in drive \d; unload drive \d first\n$/,
          );
          failures.set(call, result.exitCode);
          continue;
        }
        if (call.startsWith("loaded"))
          expect(result.stdout).toMatch(/^[0-6]\n$/);
        if (call.startsWith("list ")) expect(result.stdout).toBe(list);
        if (call.startsWith("listall"))
          expect(listallProblems(result.stdout, 4)).toEqual([]);
      }
      expect(driveProblems(changer)).toEqual([]);
      const listall = await changer.sd("listall", 0, 0);
      expect(listallProblems(listall.stdout, 4)).toEqual([]);
      const drives = changer.readDrives();
      const expectedDrives = [0, 1, 2, 3].map((d) =>
        drives[d]
          ? `D:${d}:F:${drives[d]?.slot}:${drives[d]?.barcode}`
          : `D:${d}:E`,
      );
      expect(listall.stdout.split("\n").slice(0, 4)).toEqual(expectedDrives);
      for (let d = 0; d < 4; d++)
        expectSuccess(
          await changer.sd("loaded", 0, d),
          `${drives[d]?.slot ?? 0}\n`,
        );
    }
    // The mix must have exercised the conflict path, not only happy loads.
    expect(failures.size).toBeGreaterThan(0);
  }, 240_000);
});

describe("the changer lock", () => {
  test("a lock whose holder is killed with SIGKILL is freed and the waiting load proceeds", async () => {
    const { changer } = await newChanger("lk1", 2, 3, 30);
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
    const holder = await holdLock(join(changer.workDir, "lock"));
    const load = changer.sd("load", 2, 1);
    await Bun.sleep(400);
    let done = false;
    load.then(() => (done = true));
    await Bun.sleep(0);
    expect(done).toBe(false);
    const killedAt = performance.now();
    holder.kill();
    const result = await load;
    expectSuccess(result);
    // Freed at once (the wait polls every <= 25 ms); generous for a busy machine. Never freed
    // would be exit 4 after the 30 s lock_timeout.
    expect(performance.now() - killedAt).toBeLessThan(15_000);
    expectSuccess(await changer.sd("loaded", 0, 1), "2\n");
  });

  test("the wait for the lock is bounded: exit 4 and a message naming the lock and the way out", async () => {
    const { changer } = await newChanger("lk2", 2, 3, 0.5);
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(
        3,
        slotsOf(["lk2_0001_0001", "lk2_0001_0002", "lk2_0001_0003"]),
      ),
    );
    const lock = join(changer.workDir, "lock");
    const holder = await holdLock(lock);
    try {
      const message = `changer lk2 is busy: another magchanger held ${lock} for more than 0.5 s; find it with \`fuser -v ${lock}\` or raise lock_timeout`;
      for (const [command, slot] of [
        ["list", 0],
        ["load", 1],
        ["unload", 0],
      ] as const) {
        const result = await changer.sd(command, slot, 0);
        expectFailure(result, 4, message);
        expect(result.ms).toBeGreaterThanOrEqual(500);
        expect(result.ms).toBeLessThan(15_000);
      }
      // loaded reads the atomically replaced state without the lock: with the lock held (and
      // a 0.5 s lock_timeout) any command that took it would fail with exit 4.
      expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
    } finally {
      holder.kill();
    }
    expectSuccess(await changer.sd("load", 1, 0));
  });

  test("two different changers never block each other", async () => {
    const a = await newChanger("lka", 1, 2, 0.5);
    const b = await newChanger("lkb", 1, 2, 5);
    const holder = await holdLock(join(a.changer.workDir, "lock"));
    try {
      for (const [command, slot] of [
        ["list", 0],
        ["load", 1],
        ["unload", 0],
        ["slots", 0],
      ] as const) {
        const result = await b.changer.sd(command, slot, 0);
        // Blocked by a's lock (held throughout), b would fail with exit 4 after its lock_timeout.
        expect(cleanOutcome(result)).toBeUndefined();
        expect(result.exitCode).toBe(0);
      }
      expect((await a.changer.sd("list", 0, 0)).exitCode).toBe(4);
    } finally {
      holder.kill();
    }
  });
});
