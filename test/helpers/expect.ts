// Assertions on a binary's result with exact protocol output.
import { expect } from "bun:test";
import type { RunResult } from "./run.ts";

/** Exit 0, exactly this stdout, and nothing on stderr (the SD merges stderr into what it parses). */
export function expectSuccess(result: RunResult, stdout = ""): void {
  expect({
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
  }).toEqual({ exitCode: 0, stdout, stderr: "" });
}

/** This exit code, nothing on stdout, exactly one line on stderr (a string: exact; a RegExp: matched). */
export function expectFailure(
  result: RunResult,
  exitCode: number,
  line: string | RegExp,
): void {
  expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({
    exitCode,
    stdout: "",
  });
  expect(result.stderr).toMatch(/^[^\n]+\n$/);
  if (typeof line === "string")
    expect(result.stderr).toBe(`magchanger: ${line}\n`);
  else expect(result.stderr.slice(0, -1)).toMatch(line);
}

/** A call that either succeeded or failed cleanly: non-zero in 1..199, empty stdout, one stderr line. */
export function cleanOutcome(result: RunResult): string | undefined {
  if (result.signal) return `killed by ${result.signal}`;
  if (result.exitCode === 0)
    return result.stderr === ""
      ? undefined
      : `exit 0 with stderr ${JSON.stringify(result.stderr)}`;
  if (result.exitCode < 1 || result.exitCode > 199)
    return `exit ${result.exitCode}`;
  if (result.stdout !== "")
    return `failed with stdout ${JSON.stringify(result.stdout)}`;
  if (!/^magchanger: [^\n]+\n$/.test(result.stderr))
    return `stderr is not one line: ${JSON.stringify(result.stderr)}`;
  return undefined;
}
