// unlock runs inside systemd-udevd's sandbox (MemoryDenyWriteExecute): bun:ffi needs the JIT
// there and fails, so nothing unlock loads may import it, nor the changer lock built on it.
// automap runs on every autofs lookup: it must not load the CLI framework or the lock either.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/** Every module reachable from file through static and dynamic imports (relative or bare). */
function importGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  if (!file.startsWith("/")) return seen;
  const text = readFileSync(file, "utf8");
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^import\s*["']([^"']+)["']/gm;
  for (const match of text.matchAll(pattern)) {
    const spec = match[1] ?? match[2] ?? match[3];
    if (!spec) continue;
    if (/^import\s+type\s/.test(match[0].trim())) continue;
    if (spec.startsWith(".")) {
      const target = join(dirname(file), spec);
      importGraph(existsSync(target) ? target : `${target}.ts`, seen);
    } else {
      seen.add(spec);
    }
  }
  return seen;
}

const forbidden = (graph: Set<string>) =>
  [...graph].filter(
    (m) =>
      m === "bun:ffi" ||
      m.endsWith("/state/lock.ts") ||
      m === "citty" ||
      m === "consola",
  );

describe("what unlock and automap load", () => {
  test("unlock reaches neither bun:ffi nor the changer lock (nor citty/consola)", () => {
    const graph = importGraph(join(SRC, "commands/unlock.ts"));
    expect(graph.has(join(SRC, "unlock/unlock.ts"))).toBe(true);
    expect(forbidden(graph)).toEqual([]);
  });

  test("unlock cannot run refresh itself: udev would kill it, and it would wait on bconsole", () => {
    const graph = importGraph(join(SRC, "commands/unlock.ts"));
    expect(graph.has(join(SRC, "unlock/trigger.ts"))).toBe(true);
    expect(
      [...graph].filter((m) =>
        /\/(magazine\/refresh|commands\/refresh|bacula\/bconsole)\.ts$/.test(m),
      ),
    ).toEqual([]);
  });

  test("automap reaches neither bun:ffi, the changer lock, citty nor consola", () => {
    const graph = importGraph(join(SRC, "commands/automap.ts"));
    expect(graph.has(join(SRC, "automap/resolve.ts"))).toBe(true);
    expect(forbidden(graph)).toEqual([]);
  });

  test("the check itself sees bun:ffi where it is", () => {
    expect(importGraph(join(SRC, "state/lock.ts")).has("bun:ffi")).toBe(true);
  });
});
