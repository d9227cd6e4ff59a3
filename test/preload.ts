// Every test run gets its own temp root (test/helpers/tmp.ts puts e2e dirs under it); nothing a
// test does touches /etc, /var or /mnt. The root is removed after the run unless something is
// still mounted below it (a test that failed to clean up: leave it for inspection, not rm -r).
// The test user, when this run created it, is removed with it.
import { afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeCreatedTestUsers } from "./helpers/users.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-test-"));
process.env.MAGCHANGER_TEST_ROOT = root;

afterAll(() => {
  removeCreatedTestUsers();
  const mounted = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4]?.startsWith(`${root}/`));
  if (!mounted) rmSync(root, { recursive: true, force: true });
});
