// Fault suite, command lines: both invocation forms with values a mistyped Changer Command, a
// shifted expansion or a hostile caller gives. Every case either succeeds or fails with one
// escaped line and a known exit code, leaving the state as it was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runBinary } from "../helpers/run.ts";
import { removeTempDir } from "../helpers/tmp.ts";
import {
  CASE_TIMEOUT_MS,
  caseCount,
  checkCase,
  type Fixture,
  faultRandom,
  makeFixture,
  snapshotDir,
} from "./harness.ts";

const COMMAND_WORDS = [
  "loaded",
  "LOAD",
  "Unload",
  "list",
  "listall",
  "slots",
  "transfer",
  "list\n",
  " slots",
  "frobnicate",
  "",
  "listmags",
];

function value(pick: (n: number) => number, drive: string): string {
  const values = [
    "0",
    "1",
    "3",
    "64",
    "-1",
    "999999999",
    "1e3",
    "0x10",
    "",
    " ",
    "1\nforged line",
    "\x1b[2J\x07",
    "x".repeat(5000),
    "\u00e9",
    drive,
    `${drive}/..`,
    "/etc/passwd",
    "--help",
    "-u",
  ];
  return values[pick(values.length)] as string;
}

let fixture: Fixture;
beforeAll(async () => {
  fixture = await makeFixture("fav");
});
afterAll(() => {
  if (fixture) removeTempDir(join(fixture.changer.workDir, ".."));
});

describe("fault suite: command lines", () => {
  test(
    "every argv, in both forms, succeeds or fails with one line and a known code",
    async () => {
      const pick = faultRandom();
      const cases = caseCount(80);
      const { changer } = fixture;
      let refused = 0;
      for (let i = 0; i < cases; i++) {
        fixture.reset();
        const command = COMMAND_WORDS[pick(COMMAND_WORDS.length)] as string;
        const rest = Array.from({ length: pick(5) }, () =>
          value(pick, changer.driveLink(pick(3))),
        );
        const vchanger = pick(2) === 0;
        const argv = vchanger
          ? [changer.conf, command.toUpperCase(), ...rest]
          : ["changer", changer.conf, command, ...rest];
        const what = `case ${i}: ${JSON.stringify(argv.slice(vchanger ? 1 : 2)).slice(0, 200)}`;
        const before = snapshotDir(changer.workDir);
        const result = await runBinary(argv, { timeoutMs: CASE_TIMEOUT_MS });
        checkCase(fixture, what, command.trim().toLowerCase(), result, before);
        if (result.exitCode !== 0) refused++;
      }
      console.info(`fault suite (argv): ${cases} cases, ${refused} refused`);
      expect(refused).toBeGreaterThan(0);
    },
    caseCount(80) * CASE_TIMEOUT_MS,
  );
});
