// The capability probe's own contract: reasons name what is missing, and a skip is printed and
// recorded once, as "REASON<TAB>SUITE" in MAGCHANGER_SKIP_LOG, for .ci/run's summary.
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { missing, recordSkip } from "./capabilities.ts";
import { makeTempDir, removeTempDir } from "./tmp.ts";

const saved = process.env.MAGCHANGER_SKIP_LOG;
const dirs: string[] = [];
afterEach(() => {
  if (saved === undefined) delete process.env.MAGCHANGER_SKIP_LOG;
  else process.env.MAGCHANGER_SKIP_LOG = saved;
  for (const d of dirs.splice(0)) removeTempDir(d);
});

test("a missing tool is named with the package that ships it", () => {
  expect(missing("tool:magchanger-no-such-tool")).toBe(
    "magchanger-no-such-tool is not installed (apt-get install magchanger-no-such-tool)",
  );
});

test("a missing account is named", () => {
  expect(missing("user:magchanger-no-such-user")).toBe(
    "no magchanger-no-such-user user",
  );
  expect(missing("group:magchanger-no-such-group")).toBe(
    "no magchanger-no-such-group group",
  );
});

test("the first missing need is the reason; none missing is undefined", () => {
  expect(
    missing("tool:sh", "tool:magchanger-absent", "user:magchanger-absent"),
  ).toBe(
    "magchanger-absent is not installed (apt-get install magchanger-absent)",
  );
  expect(missing("tool:sh", "user:root")).toBeUndefined();
});

test("a skip is recorded once per suite and reason, tab-separated, in MAGCHANGER_SKIP_LOG", () => {
  const dir = makeTempDir("skip-log");
  dirs.push(dir);
  const log = join(dir, "skips");
  process.env.MAGCHANGER_SKIP_LOG = log;
  const printed: string[] = [];
  const print = (line: string) => printed.push(line);
  recordSkip("suite one", "no autofs in this kernel", print);
  recordSkip("suite one", "no autofs in this kernel", print);
  recordSkip("suite two", "needs root", print);
  expect(printed).toEqual([
    "skip: suite one: no autofs in this kernel",
    "skip: suite two: needs root",
  ]);
  expect(readFileSync(log, "utf8")).toBe(
    "no autofs in this kernel\tsuite one\nneeds root\tsuite two\n",
  );
});
