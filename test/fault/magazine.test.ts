// Fault suite, magazine content: what a plugged-in disk holds, damaged or hostile (identity
// edits, stray .magchanger-* entries, hard links, links, FIFOs, control characters in names),
// under the protocol commands and `magazine list`. Besides the harness's invariants, nothing a
// command prints carries a raw control character from the disk.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  cpSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { runBinary } from "../helpers/run.ts";
import { removeTempDir } from "../helpers/tmp.ts";
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

type Damage = (bay: string, pick: (n: number) => number) => string;

function identityFile(bay: string): string {
  const dir = readdirSync(bay).find((n) => n.startsWith(".magchanger-"));
  return join(bay, dir as string, "magazine.json");
}

function volumesOf(bay: string): string[] {
  return readdirSync(bay)
    .filter((n) => !n.startsWith("."))
    .sort();
}

const NUMBERS = [
  "0",
  "-1",
  "1e300",
  "9007199254740994",
  "1.5",
  "10000",
  '"1"',
  "null",
];
const NAMES = [
  "bad\x1b[2Jname",
  "bell\x07",
  "new\nline",
  "has:colon",
  "has space",
  "README",
];

const DAMAGES: Record<string, Damage> = {
  "identity number": (bay, pick) => {
    const file = identityFile(bay);
    const value = NUMBERS[pick(NUMBERS.length)] as string;
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        /"number":\s*\d+/,
        `"number": ${value}`,
      ),
    );
    return value;
  },
  "identity is null, a list or cut short": (bay, pick) => {
    const file = identityFile(bay);
    const text = readFileSync(file, "utf8");
    const forms = ["null", "[]", '"x"', text.slice(0, pick(text.length))];
    writeFileSync(file, forms[pick(forms.length)] as string);
    return "";
  },
  "identity is a FIFO": (bay) => {
    const file = identityFile(bay);
    rmSync(file);
    Bun.spawnSync(["mkfifo", file]);
    return "";
  },
  "identity links to /dev/zero": (bay) => {
    const file = identityFile(bay);
    rmSync(file);
    symlinkSync("/dev/zero", file);
    return "";
  },
  "identity is huge": (bay) => (
    writeFileSync(identityFile(bay), " ".repeat(200_000)),
    ""
  ),
  "identity directory is a link": (bay) => {
    const dir = dirname(identityFile(bay));
    const copy = join(dirname(bay), "elsewhere");
    rmSync(copy, { recursive: true, force: true });
    cpSync(dir, copy, { recursive: true });
    rmSync(dir, { recursive: true });
    symlinkSync(copy, dir);
    return "";
  },
  "a stray .magchanger- entry": (bay, pick) => {
    const forms = [
      () => writeFileSync(join(bay, ".magchanger-notes.txt"), "x"),
      () => mkdirSync(join(bay, ".magchanger-backup")),
      () =>
        mkdirSync(
          join(bay, ".magchanger-11111111-2222-4333-8444-555555555555"),
        ),
    ];
    const at = pick(forms.length);
    (forms[at] as () => void)();
    return String(at);
  },
  "a hard link of a volume": (bay, pick) => {
    const volumes = volumesOf(bay);
    linkSync(
      join(bay, volumes[pick(volumes.length)] as string),
      join(bay, "zz_linked"),
    );
    return "";
  },
  "a hostile file name": (bay, pick) => {
    const name = NAMES[pick(NAMES.length)] as string;
    writeFileSync(join(bay, name), "x");
    return JSON.stringify(name);
  },
  "a volume replaced": (bay, pick) => {
    const volumes = volumesOf(bay);
    const path = join(bay, volumes[pick(volumes.length)] as string);
    rmSync(path);
    const forms = [
      () => Bun.spawnSync(["mkfifo", path]),
      () => mkdirSync(path),
      () => symlinkSync("/etc/passwd", path),
      () => {},
    ];
    (forms[pick(forms.length)] as () => void)();
    return "";
  },
};

const COMMANDS: [string, string[]][] = [
  ...PROTOCOL_CASES,
  ["magazine list", []],
];

let fixture: Fixture;
let bay: string;
let pristineBay: string;
beforeAll(async () => {
  fixture = await makeFixture("fmg");
  bay = join(dirname(fixture.changer.workDir), "bay1");
  pristineBay = join(dirname(fixture.changer.workDir), "pristine-bay");
  cpSync(bay, pristineBay, { recursive: true });
});
afterAll(() => {
  if (fixture) removeTempDir(dirname(fixture.changer.workDir));
});

describe("fault suite: magazine content", () => {
  test(
    "whatever a disk holds, every command finishes, keeps the invariants and prints nothing raw",
    async () => {
      const pick = faultRandom();
      const names = Object.keys(DAMAGES);
      const cases = caseCount(60);
      let absentOrRefused = 0;
      for (let i = 0; i < cases; i++) {
        fixture.reset();
        rmSync(bay, { recursive: true, force: true });
        cpSync(pristineBay, bay, { recursive: true });
        const damage = names[pick(names.length)] as string;
        const detail = (DAMAGES[damage] as Damage)(bay, pick);
        const [command, args] = COMMANDS[pick(COMMANDS.length)] as [
          string,
          string[],
        ];
        const { changer } = fixture;
        const argv =
          command === "magazine list"
            ? ["magazine", "list", "-c", changer.conf]
            : ["changer", changer.conf, ...driveArgs(changer, args)];
        const what = `case ${i}: ${damage} ${detail} | ${command}`;
        const before = snapshotDir(changer.workDir);
        const result = await runBinary(argv, { timeoutMs: CASE_TIMEOUT_MS });
        if (command === "magazine list") {
          // Human output: no state to compare; it must finish, and print nothing raw.
          expect({ what, hung: result.signal }).toEqual({ what, hung: null });
        } else {
          checkCase(fixture, what, command, result, before, {
            ignore: CACHE_FILES,
          });
        }
        // biome-ignore lint: control characters are what is looked for
        const raw = /[\u0000-\u0009\u000b-\u001f\u007f]/.exec(
          result.stdout + result.stderr,
        );
        expect({ what, raw: raw?.[0] }).toEqual({ what, raw: undefined });
        if (result.exitCode !== 0 || result.stdout.includes(":\n"))
          absentOrRefused++;
      }
      console.info(
        `fault suite (magazine content): ${cases} cases, ${absentOrRefused} refused or with empty slots`,
      );
      expect(absentOrRefused).toBeGreaterThan(0);
    },
    caseCount(60) * CASE_TIMEOUT_MS,
  );
});
