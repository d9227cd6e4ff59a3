// The modules a source file reaches through static and dynamic imports: for tests that keep a
// path (udev, autofs, the changer protocol) away from what it must never load, and for the
// layer check (test/layers/).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const SRC = resolve(import.meta.dir, "../../src");

export interface ImportSpec {
  /** As written: "../state/lock.ts", "zod/mini". */
  spec: string;
  /** `import type ...`: no module is loaded at run time. */
  typeOnly: boolean;
  /** `import("...")`: loaded only when that line runs. */
  dynamic: boolean;
}

/** The static, dynamic and re-export specifiers of a module's text, in order. */
export function importSpecs(text: string): ImportSpec[] {
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;
  const specs: ImportSpec[] = [];
  for (const match of text.matchAll(pattern)) {
    const spec = match[1] ?? match[2] ?? match[3];
    if (!spec) continue;
    specs.push({
      spec,
      typeOnly: /^import\s+type\s/.test(match[0].trim()),
      dynamic: match[2] !== undefined,
    });
  }
  return specs;
}

/** The file a relative specifier names (with or without its .ts). */
export function resolveSpec(file: string, spec: string): string {
  const target = join(dirname(file), spec);
  return existsSync(target) ? target : `${target}.ts`;
}

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
  for (const s of importSpecs(readFileSync(file, "utf8"))) {
    if (s.typeOnly || (s.dynamic && !dynamic)) continue;
    if (s.spec.startsWith("."))
      importGraph(resolveSpec(file, s.spec), seen, dynamic);
    else seen.add(s.spec);
  }
  return seen;
}
