// The modules a source file reaches through static and dynamic imports: for tests that keep a
// path (udev, autofs, the changer protocol) away from what it must never load.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const SRC = resolve(import.meta.dir, "../../src");

/**
 * Every module reachable from file through static and dynamic imports (relative or bare);
 * with dynamic false, through static imports only: what loading file evaluates.
 */
export function importGraph(
  file: string,
  seen = new Set<string>(),
  dynamic = true,
): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  if (!file.startsWith("/")) return seen;
  const text = readFileSync(file, "utf8");
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;
  for (const match of text.matchAll(pattern)) {
    const spec = match[1] ?? match[2] ?? match[3];
    if (!spec || (!dynamic && match[2])) continue;
    if (/^import\s+type\s/.test(match[0].trim())) continue;
    if (spec.startsWith(".")) {
      const target = join(dirname(file), spec);
      importGraph(existsSync(target) ? target : `${target}.ts`, seen, dynamic);
    } else {
      seen.add(spec);
    }
  }
  return seen;
}
