// Every test run gets its own temp root; nothing a test does touches /etc, /var or /mnt.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.env.MAGCHANGER_TEST_ROOT ??= mkdtempSync(
  join(tmpdir(), "magchanger-test-"),
);
