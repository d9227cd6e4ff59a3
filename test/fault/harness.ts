// The bad-input and fault suite's engine: a changer in a known state, a seeded stream of
// damage applied to one input at a time, the compiled binary run against it, and the
// invariants checked after every case:
// - it finished within CASE_TIMEOUT_MS (nothing hangs);
// - exit 0, or a known exit code with empty stdout and exactly one line on stderr;
// - after a failure every state file is byte-identical to what it was before the call;
// - after a success the state still parses, no slot is in two drives, and no volume that was
//   listed before is listed under another slot.
// MAGCHANGER_TEST_SEED replays a run; MAGCHANGER_FAULT_CASES sets how many cases a class runs.
import { expect } from "bun:test";
import {
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { parseDrives } from "../../src/state/drives.ts";
import { parseRegistry } from "../../src/state/registry.ts";
import { TestChanger } from "../helpers/changer.ts";
import { seededRandom } from "../helpers/random.ts";
import type { RunResult } from "../helpers/run.ts";
import { makeTempDir } from "../helpers/tmp.ts";

export const CASE_TIMEOUT_MS = 5_000;
export const KNOWN_EXIT_CODES = [1, 2, 3, 4, 5, 6, 7, 8, 9];

export function caseCount(fallback: number): number {
  const n = Number(process.env.MAGCHANGER_FAULT_CASES);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function faultRandom(): (n: number) => number {
  const seed =
    Number(process.env.MAGCHANGER_TEST_SEED) ||
    Math.floor(Math.random() * 2 ** 31);
  return seededRandom(seed);
}

/** Every entry of the work dir: file bytes, link targets, or the kind of thing it is. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name === "lock" || name.endsWith(".log")) continue;
    const path = join(dir, name);
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) out[name] = `-> ${readlinkSync(path)}`;
    else if (stats.isFile() && stats.size <= 1 << 20)
      out[name] = readFileSync(path, "latin1");
    else out[name] = `(mode ${stats.mode.toString(8)} size ${stats.size})`;
  }
  return out;
}

export interface Fixture {
  changer: TestChanger;
  volumes: string[];
  /** slot -> barcode as `list` printed it in the pristine state. */
  slots: Map<number, string>;
  pristine: string;
  /** Puts the work dir back as it was after setup. */
  reset(): void;
}

/** A changer with one directory bay of `count` volumes, slot 2 loaded in drive 0. */
export async function makeFixture(name: string, count = 6): Promise<Fixture> {
  const dir = makeTempDir(`fault-${name}`);
  const bay = join(dir, "bay1");
  mkdirSync(bay);
  const changer = new TestChanger(dir, {
    name,
    drives: 2,
    bays: [{ path: bay, allowUnmounted: true }],
  });
  const volumes = await changer.init(1, count);
  const load = await changer.sd("load", 2, 0);
  if (load.exitCode !== 0) throw new Error(`fixture load: ${load.stderr}`);
  const list = await changer.sd("list", 0, 0);
  const pristine = join(dir, "pristine");
  cpSync(changer.workDir, pristine, {
    recursive: true,
    verbatimSymlinks: true,
  });
  return {
    changer,
    volumes,
    slots: parseList(list.stdout),
    pristine,
    reset() {
      rmSync(changer.workDir, { recursive: true, force: true });
      cpSync(pristine, changer.workDir, {
        recursive: true,
        verbatimSymlinks: true,
      });
    },
  };
}

/** The protocol calls every class runs; DRIVEn stands for drive n's link (see driveArgs). */
export const PROTOCOL_CASES: [string, string[]][] = [
  ["loaded", ["loaded", "0", "DRIVE0", "0"]],
  ["load", ["load", "3", "DRIVE1", "1"]],
  ["unload", ["unload", "2", "DRIVE0", "0"]],
  ["list", ["list", "0", "DRIVE0", "0"]],
  ["listall", ["listall", "0", "DRIVE0", "0"]],
  ["slots", ["slots", "0", "DRIVE0", "0"]],
];

/** args with each DRIVEn replaced by the fixture changer's drive n link. */
export function driveArgs(changer: TestChanger, args: string[]): string[] {
  return args.map((a) =>
    a.startsWith("DRIVE") ? changer.driveLink(Number(a.slice(5))) : a,
  );
}

export function parseList(stdout: string): Map<number, string> {
  const slots = new Map<number, string>();
  for (const line of stdout.split("\n")) {
    const m = /^(\d+):(.*)$/.exec(line);
    if (m?.[2]) slots.set(Number(m[1]), m[2]);
  }
  return slots;
}

/** The work dir's caches: rewritten by design whenever what they cache changed. */
export const CACHE_FILES = ["config.cache.json", "listing.cache"];

export interface CheckOptions {
  /** Work dir entries left out of the "byte-identical after a failure" check. */
  ignore?: string[];
}

function without(
  snapshot: Record<string, string>,
  names: string[],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snapshot).filter(([name]) => !names.includes(name)),
  );
}

/** The invariants above, for one case; `what` names the case in every failure. */
export function checkCase(
  fixture: Fixture,
  what: string,
  command: string,
  result: RunResult,
  before: Record<string, string>,
  options: CheckOptions = {},
): void {
  const { workDir } = fixture.changer;
  const ignore = options.ignore ?? [];
  expect({ what, hung: result.signal !== null }).toEqual({ what, hung: false });
  if (result.exitCode !== 0) {
    expect({ what, code: KNOWN_EXIT_CODES.includes(result.exitCode) }).toEqual({
      what,
      code: true,
    });
    expect({ what, stdout: result.stdout }).toEqual({ what, stdout: "" });
    expect({
      what,
      oneLine: /^magchanger: [^\n]+\n$/.test(result.stderr),
    }).toEqual({ what, oneLine: true });
    // The event queue is no state: a failed load records there what it wanted (volume-needed,
    // issue 13). Every state file stays as it was.
    const unchanged = [...ignore, "events"];
    expect({ what, after: without(snapshotDir(workDir), unchanged) }).toEqual({
      what,
      after: without(before, unchanged),
    });
    return;
  }
  // A success may leave a file it never read as damaged as it was; anything it changed parses.
  const after = snapshotDir(workDir);
  const parses = <T>(
    name: string,
    parse: (text: string) => T,
  ): T | undefined => {
    if (after[name] === before[name]) return undefined;
    try {
      return parse(readFileSync(join(workDir, name), "utf8"));
    } catch (error) {
      expect({ what, [name]: (error as Error).message }).toEqual({
        what,
        [name]: "parses",
      });
    }
  };
  const registry = parses("slots", (t) => parseRegistry(t, "slots"));
  const drives = parses("drives.json", (t) => parseDrives(t, "drives")) ?? [];
  const loaded = drives.flatMap((d) => (d ? [d.slot] : []));
  expect({ what, twice: loaded.length !== new Set(loaded).size }).toEqual({
    what,
    twice: false,
  });
  for (const [slot, entry] of registry?.slots ?? []) {
    const was = [...fixture.slots].find(([, b]) => b === entry.barcode)?.[0];
    if (was !== undefined)
      expect({ what, barcode: entry.barcode, slot }).toEqual({
        what,
        barcode: entry.barcode,
        slot: was,
      });
  }
  if (command === "list")
    for (const [slot, barcode] of parseList(result.stdout)) {
      const was = [...fixture.slots].find(([, b]) => b === barcode)?.[0];
      if (was !== undefined)
        expect({ what, barcode, slot }).toEqual({ what, barcode, slot: was });
    }
}
