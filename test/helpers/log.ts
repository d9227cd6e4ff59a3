// A changer log that keeps its lines in memory, for tests that check what was logged.
import type { Log } from "../../src/log.ts";

export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => void lines.push(`debug: ${m}`),
    info: (m) => void lines.push(`info: ${m}`),
    warn: (m) => void lines.push(`warn: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
    failure: undefined,
    close() {},
  };
}
