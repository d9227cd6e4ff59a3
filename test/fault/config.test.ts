// Fault suite, config files: the changer's TOML config and a vchanger.conf for the same changer,
// damaged the ways an editor, a copy, a disk or a careless admin damage them, under every
// protocol command in both invocation forms. A config that still validates (the same source's
// reader decides) runs as usual under the harness's invariants; one that does not is exit 3 with
// one line naming the file. Some damages have a fixed answer whatever the reader says: a byte
// that is not UTF-8, a duplicated TOML key, a FIFO, a link to /dev/zero or a huge file.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { readConfigText } from "../../src/config/load.ts";
import { readConfigSource } from "../../src/config/read.ts";
import type { Config } from "../../src/config/schema.ts";
import { runBinary } from "../helpers/run.ts";
import { removeTempDir } from "../helpers/tmp.ts";
import { writeConf10 } from "../helpers/vchanger.ts";
import {
  CACHE_FILES,
  CASE_TIMEOUT_MS,
  caseCount,
  checkCase,
  type Fixture,
  faultRandom,
  makeFixture,
  PROTOCOL_CASES,
  driveArgs,
  snapshotDir,
} from "./harness.ts";

type Pick = (n: number) => number;
/** Rewrites or replaces the file; returns what it did, and whether the answer must be exit 3. */
type Damage = (path: string, pick: Pick) => [string, boolean];

const text = (path: string) => readFileSync(path, "latin1");
const put = (path: string, data: string) =>
  writeFileSync(path, Buffer.from(data, "latin1"));
const lineStarts = (t: string) => [
  0,
  ...[...t.matchAll(/\n(?=.)/g)].map((m) => (m.index ?? 0) + 1),
];

/** A line's value replaced: wrong types and huge values, for whichever key the line has. */
const VALUES = [
  '"2"',
  "true",
  "1",
  "-1",
  "0",
  "100000",
  "1e308",
  "3601",
  "[]",
  "{}",
  `"${"a".repeat(200_000)}"`,
  `${"[".repeat(3000)}${"]".repeat(3000)}`,
  '"relative/path"',
  '""',
];

const DAMAGES: Record<string, Damage> = {
  "truncate anywhere": (p, pick) => {
    const t = text(p);
    const at = pick(t.length);
    put(p, t.slice(0, at));
    return [`at ${at}`, false];
  },
  "flip a byte": (p, pick) => {
    const b = Buffer.from(text(p), "latin1");
    const at = pick(b.length);
    b[at] = (b[at] ?? 0) ^ (1 << pick(8));
    writeFileSync(p, b);
    return [`at ${at}`, (b[at] ?? 0) >= 0x80];
  },
  "a Latin-1 byte": (p, pick) => {
    const t = text(p);
    const at = pick(t.length + 1);
    put(p, `${t.slice(0, at)}\u00e9${t.slice(at)}`);
    return [`at ${at}`, true];
  },
  "a duplicated line": (p, pick) => {
    const lines = text(p).split("\n");
    const at = pick(Math.max(1, lines.length - 1));
    lines.splice(at, 0, lines[at] ?? "");
    put(p, lines.join("\n"));
    // A TOML key set twice is an error; a vchanger.conf keeps the last (as vchanger did).
    const line = lines[at] ?? "";
    return [`line ${at + 1}`, p.endsWith(".toml") && /^\w+ =/.test(line)];
  },
  "a value of another type or size": (p, pick) => {
    const t = text(p);
    const lines = t.split("\n");
    const candidates = lines.flatMap((l, i) => (/=/.test(l) ? [i] : []));
    const at = candidates[pick(candidates.length)] as number;
    const value = VALUES[pick(VALUES.length)] as string;
    lines[at] = `${(lines[at] ?? "").split("=")[0]}= ${value}`;
    put(p, lines.join("\n"));
    return [`line ${at + 1} = ${value.slice(0, 12)}`, false];
  },
  "CR line ends": (p) => (
    put(p, text(p).replaceAll("\n", "\r\n")),
    ["", false]
  ),
  "a NUL byte": (p, pick) => {
    const t = text(p);
    const at = lineStarts(t)[pick(lineStarts(t).length)] ?? 0;
    put(p, `${t.slice(0, at)}\0${t.slice(at)}`);
    return [`at ${at}`, false];
  },
  empty: (p) => (put(p, ""), ["", true]),
  "a FIFO": (p) => (rmSync(p), Bun.spawnSync(["mkfifo", p]), ["", true]),
  "a link to /dev/zero": (p) => (
    rmSync(p),
    symlinkSync("/dev/zero", p),
    ["", true]
  ),
  "a dangling link": (p) => (
    rmSync(p),
    symlinkSync(`${p}.gone`, p),
    ["", true]
  ),
  "a directory": (p) => (rmSync(p), mkdirSync(p), ["", true]),
  "a 3 GiB sparse file": (p) => (truncateSync(p, 3 * 2 ** 30), ["", true]),
};

const COMMANDS: [string, string[]][] = [
  ...PROTOCOL_CASES,
  ["transfer", ["transfer", "4", "7", "0"]],
];

/** What the config's own reader says of the damaged file: its Config, or its error. */
function oracle(path: string): Config | Error {
  try {
    return readConfigText(readConfigSource(path, true), path).config;
  } catch (error) {
    return error as Error;
  }
}

/** A config that validates but names other places: running it would write outside the test. */
function moved(config: Config, pristine: Config): boolean {
  const places = (c: Config) =>
    JSON.stringify([
      c.work_dir,
      c.log_file,
      c.magazine,
      c.bacula,
      c.user,
      c.group,
    ]);
  return places(config) !== places(pristine);
}

let fixture: Fixture;
let confs: { path: string; pristine: string; config: Config }[] = [];
beforeAll(async () => {
  fixture = await makeFixture("fcf");
  const { changer } = fixture;
  const vconf = writeConf10(join(changer.dir, "vchanger.conf"), {
    name: changer.name,
    workDir: changer.workDir,
    logFile: changer.logFile,
    magazines: [join(changer.dir, "bay1")],
  });
  confs = [changer.conf, vconf].map((path) => ({
    path,
    pristine: readFileSync(path, "latin1"),
    config: oracle(path) as Config,
  }));
});
afterAll(() => {
  if (fixture) removeTempDir(fixture.changer.dir);
});

describe("fault suite: damaged config files", () => {
  test(
    "every damaged config runs as it validates, or is exit 3 with one line naming the file",
    async () => {
      const pick = faultRandom();
      const names = Object.keys(DAMAGES);
      const cases = caseCount(60);
      const tally = { refused: 0, ran: 0, moved: 0 };
      for (let i = 0; i < cases; i++) {
        fixture.reset();
        const conf = confs[pick(confs.length)] as (typeof confs)[number];
        rmSync(conf.path, { recursive: true, force: true });
        put(conf.path, conf.pristine);
        const damage = names[pick(names.length)] as string;
        const [detail, mustRefuse] = (DAMAGES[damage] as Damage)(
          conf.path,
          pick,
        );
        const [command, args] = COMMANDS[pick(COMMANDS.length)] as [
          string,
          string[],
        ];
        const form = pick(2) === 0 ? "changer" : "vchanger";
        const what = `case ${i}: ${conf.path.endsWith(".toml") ? "toml" : "vchanger.conf"} ${damage} ${detail} | ${form} ${command}`;
        const expected = oracle(conf.path);
        if (!(expected instanceof Error) && moved(expected, conf.config)) {
          tally.moved++;
          continue;
        }
        const argv = driveArgs(fixture.changer, args);
        const before = snapshotDir(fixture.changer.workDir);
        const result = await runBinary(
          form === "changer"
            ? ["changer", conf.path, ...argv]
            : [conf.path, ...argv],
          { timeoutMs: CASE_TIMEOUT_MS },
        );
        checkCase(fixture, what, command, result, before, {
          ignore: CACHE_FILES,
        });
        if (mustRefuse || expected instanceof Error) {
          tally.refused++;
          expect({ what, code: result.exitCode }).toEqual({ what, code: 3 });
          expect({ what, names: result.stderr.includes(conf.path) }).toEqual({
            what,
            names: true,
          });
        } else {
          tally.ran++;
          if (result.exitCode === 3)
            expect({ what, names: result.stderr.includes(conf.path) }).toEqual({
              what,
              names: true,
            });
        }
      }
      console.info(
        `fault suite (config files): ${cases} cases, ${tally.refused} refused, ${tally.ran} ran, ${tally.moved} skipped (the damage named other paths)`,
      );
      expect(tally.refused).toBeGreaterThan(0);
    },
    caseCount(60) * CASE_TIMEOUT_MS,
  );
});
