// Temp dirs for end-to-end tests, under the run's MAGCHANGER_TEST_ROOT (test/preload.ts). They
// are world-traversable (0755) so a changer that dropped to an unprivileged user can reach its
// config, magazines and work dir.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function testRoot(): string {
  const root = (process.env.MAGCHANGER_TEST_ROOT ??= mkdtempSync(
    join(tmpdir(), "magchanger-test-"),
  ));
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  return root;
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(testRoot(), `${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** Removes a temp dir; `one-file-system` semantics are the caller's job: unmount first. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
