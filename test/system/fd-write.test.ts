// The one output rule (src/system/fd-write.ts): every byte for stdout or stderr goes through
// its writers, which escape by construction. These tests hold the rest of src/ to it, so a new
// command cannot print a name from a disk or an answer from Bacula raw by forgetting printable().
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { LogObject } from "consola";
import { escapingReporter } from "../../src/commands/console.ts";
import { SRC } from "../helpers/imports.ts";

function sources(): { file: string; text: string }[] {
  return readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => ({
      file: name,
      text: readFileSync(join(SRC, name), "utf8"),
    }));
}

/** The lines of text that are code, not comments. */
function codeLines(text: string): string[] {
  return text.split("\n").filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line));
}

describe("every write to stdout or stderr goes through system/fd-write.ts", () => {
  test("no other file writes to fd 1 or 2 itself (process.stdout, process.stderr, console, writeSync)", () => {
    const direct =
      /process\.std(?:out|err)\.write|console\.(?:log|error|warn|info|debug)\(|writeSync\(\s*[12]\s*,|Bun\.write\(\s*Bun\.std(?:out|err)/;
    const offenders = sources()
      .filter(({ file }) => file !== "system/fd-write.ts")
      .flatMap(({ file, text }) =>
        codeLines(text)
          .filter((line) => direct.test(line))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  test("only the protocol answers (changer, automap) are written unescaped", () => {
    const users = sources()
      .filter(({ text }) => /\bwriteProtocol\(/.test(text))
      .map(({ file }) => file)
      .sort();
    expect(users).toEqual([
      "commands/automap.ts",
      "commands/protocol.ts",
      "system/fd-write.ts",
    ]);
  });

  test("consola is made in one place, whose reporters escape", () => {
    const users = sources()
      .filter(({ text }) => /\bcreateConsola\b/.test(text))
      .map(({ file }) => file);
    expect(users).toEqual(["commands/console.ts"]);
  });
});

describe("console.ts's terminal reporter", () => {
  test("hands consola's own reporter the message already escaped", () => {
    const seen: unknown[][] = [];
    const reporter = escapingReporter({
      log: (entry) => seen.push(entry.args),
    });
    reporter.log(
      {
        args: ["bay \u001b[2J\u009b", "x\u202ey"],
        type: "warn",
        level: 1,
        tag: "",
        date: new Date(),
      } as LogObject,
      { options: {} as never },
    );
    expect(seen).toEqual([["bay \\x1b[2J\\x9b x\\u202ey"]]);
  });
});
