// Generated file trees for backup tests and their sha256 manifests.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Writes about totalBytes of incompressible files under dir: a few sizes (empty, tiny, 100 KiB
 * .. 4 MiB) spread over nested directories, so a backup crosses volume boundaries mid-file.
 */
export function generateTree(
  dir: string,
  totalBytes: number,
): { files: number; bytes: number } {
  const sizes = [0, 1, 513, 100 * 1024, 1024 * 1024 + 7, 4 * 1024 * 1024 - 3];
  let bytes = 0;
  let files = 0;
  for (let i = 0; bytes < totalBytes; i++) {
    const sub = join(dir, `d${i % 4}`, `e${i % 3}`);
    mkdirSync(sub, { recursive: true });
    const size = Math.min(sizes[i % sizes.length] ?? 0, totalBytes - bytes);
    writeFileSync(join(sub, `f${i}.bin`), randomBytes(size));
    bytes += size;
    files++;
  }
  return { files, bytes };
}

/** relative path -> sha256 hex for every regular file under dir. */
export function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        out.set(
          relative(dir, p),
          createHash("sha256").update(readFileSync(p)).digest("hex"),
        );
    }
  };
  walk(dir);
  return out;
}

/** Human-readable differences between two manifests; empty when they are equal. */
export function diffManifests(
  expected: Map<string, string>,
  actual: Map<string, string>,
): string[] {
  const problems: string[] = [];
  for (const [path, sum] of expected) {
    const got = actual.get(path);
    if (got === undefined) problems.push(`missing: ${path}`);
    else if (got !== sum) problems.push(`checksum differs: ${path}`);
  }
  for (const path of actual.keys())
    if (!expected.has(path)) problems.push(`unexpected: ${path}`);
  return problems;
}
