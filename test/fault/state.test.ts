// Fault suite, state files: the registry (`slots`) and `drives.json`, damaged the ways a disk,
// a crash, an editor or a hostile run-as user damage them, under every protocol command.
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
import { removeTempDir } from "../helpers/tmp.ts";
import {
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

type Damage = (path: string, pick: (n: number) => number) => string;

const text = (path: string) => readFileSync(path, "latin1");
const put = (path: string, data: string) =>
  writeFileSync(path, Buffer.from(data, "latin1"));

/** Each damage rewrites or replaces the file and returns what it did, for the case's name. */
const DAMAGES: Record<string, Damage> = {
  "truncate anywhere": (p, pick) => {
    const t = text(p);
    const at = pick(t.length);
    put(p, t.slice(0, at));
    return `at ${at}`;
  },
  "truncate at a line end": (p, pick) => {
    const lines = text(p).split("\n");
    const keep = 1 + pick(Math.max(1, lines.length - 2));
    put(p, `${lines.slice(0, keep).join("\n")}\n`);
    return `${keep} lines`;
  },
  "flip a byte": (p, pick) => {
    const b = Buffer.from(text(p), "latin1");
    const at = pick(b.length);
    b[at] = (b[at] ?? 0) ^ (1 << pick(8));
    writeFileSync(p, b);
    return `at ${at}`;
  },
  "a Latin-1 byte": (p, pick) => {
    const t = text(p);
    const at = pick(t.length);
    put(p, `${t.slice(0, at)}\u00e9${t.slice(at)}`);
    return `at ${at}`;
  },
  "CR line ends": (p) => (put(p, text(p).replaceAll("\n", "\r\n")), ""),
  "a number spelled 1e0 or 0x": (p, pick) => {
    const spelled = ["1e0", "0x1", "01", " 1", "1.0", "-1", "9007199254740993"];
    const word = spelled[pick(spelled.length)] as string;
    put(p, text(p).replace(/(?<=[ :] ?)1\b/, word));
    return word;
  },
  "a duplicated line": (p, pick) => {
    const lines = text(p).split("\n");
    const at = 1 + pick(Math.max(1, lines.length - 2));
    lines.splice(at, 0, lines[at] ?? "");
    put(p, lines.join("\n"));
    return `line ${at + 1}`;
  },
  empty: (p) => (put(p, ""), ""),
  "a FIFO": (p) => (rmSync(p), Bun.spawnSync(["mkfifo", p]), ""),
  "a link to /dev/zero": (p) => (rmSync(p), symlinkSync("/dev/zero", p), ""),
  "a dangling link": (p) => (rmSync(p), symlinkSync(`${p}.gone`, p), ""),
  "a directory": (p) => (rmSync(p), mkdirSync(p), ""),
  "a 3 GiB sparse file": (p) => (truncateSync(p, 3 * 2 ** 30), ""),
};

const COMMANDS: [string, string[]][] = [
  ...PROTOCOL_CASES,
  ["transfer", ["transfer", "4", "7", "0"]],
];

let fixture: Fixture;
beforeAll(async () => {
  fixture = await makeFixture("fst");
});
afterAll(() => {
  if (fixture) removeTempDir(join(fixture.changer.workDir, ".."));
});

describe("fault suite: damaged state files", () => {
  test(
    "every damaged registry or drives.json is refused in bounded time or read as it was",
    async () => {
      const pick = faultRandom();
      const names = Object.keys(DAMAGES);
      const cases = caseCount(80);
      let refused = 0;
      for (let i = 0; i < cases; i++) {
        fixture.reset();
        const file = pick(2) === 0 ? "slots" : "drives.json";
        const damage = names[pick(names.length)] as string;
        const detail = (DAMAGES[damage] as Damage)(
          join(fixture.changer.workDir, file),
          pick,
        );
        const [command, args] = COMMANDS[pick(COMMANDS.length)] as [
          string,
          string[],
        ];
        const argv = driveArgs(fixture.changer, args);
        const what = `case ${i}: ${file} ${damage} ${detail} | ${command}`;
        const before = snapshotDir(fixture.changer.workDir);
        const result = await fixture.changer.run(argv, {
          timeoutMs: CASE_TIMEOUT_MS,
        });
        checkCase(fixture, what, command, result, before);
        if (result.exitCode !== 0) refused++;
      }
      console.info(
        `fault suite (state files): ${cases} cases, ${refused} refused`,
      );
      expect(refused).toBeGreaterThan(0);
    },
    caseCount(80) * CASE_TIMEOUT_MS,
  );
});
