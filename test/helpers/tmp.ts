// Temp dirs for end-to-end tests, under the run's MAGCHANGER_TEST_ROOT (test/preload.ts). They
// are world-traversable (0755) so a changer that dropped to an unprivileged user can reach its
// config, magazines and work dir.
import { chmodSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function testRoot(): string {
  let root = process.env.MAGCHANGER_TEST_ROOT;
  if (!root) {
    // A script outside `bun test` (the demos, a helper process): no preload removes this root,
    // so it goes when the process exits, if whatever used it was removed (never rm -r here).
    const made = mkdtempSync(join(tmpdir(), "magchanger-test-"));
    process.env.MAGCHANGER_TEST_ROOT = made;
    process.on("exit", () => {
      try {
        rmdirSync(made);
      } catch {} // not empty: left for inspection
    });
    root = made;
  }
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
