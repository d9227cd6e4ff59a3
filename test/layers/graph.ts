// The import edges between units of src/ (see rules.ts) and the ones that break the rules.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { importSpecs, resolveSpec } from "../helpers/imports.ts";
import { FLOORS, REACH } from "./rules.ts";

export interface Edge {
  /** Paths relative to src/: "disk/discover.ts". */
  from: string;
  to: string;
}

export interface Rules {
  floors: readonly (readonly string[])[];
  reach: Readonly<Record<string, string>>;
}

export const RULES: Rules = { floors: FLOORS, reach: REACH };

/** "disk/" for src/disk/discover.ts, "main.ts" for src/main.ts. */
export function unitOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? path : path.slice(0, slash + 1);
}

/** Every relative import of every .ts file below srcDir, type-only ones too. */
export function importEdges(srcDir: string): Edge[] {
  const edges: Edge[] = [];
  const entries = readdirSync(srcDir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const file = join(entry.parentPath, entry.name);
    for (const { spec } of importSpecs(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const to = relative(srcDir, resolveSpec(file, spec));
      edges.push({ from: relative(srcDir, file), to });
    }
  }
  return edges.sort((a, b) =>
    `${a.from}>${a.to}`.localeCompare(`${b.from}>${b.to}`),
  );
}

/** One line per edge that runs sideways, up, past a unit's reach, or touches a unit no floor holds. */
export function violations(edges: Edge[], rules: Rules = RULES): string[] {
  const floor = new Map<string, number>();
  rules.floors.forEach((units, i) => {
    for (const unit of units) floor.set(unit, i);
  });
  const out: string[] = [];
  for (const { from, to } of edges) {
    const [a, b] = [unitOf(from), unitOf(to)];
    if (a === b) continue;
    const [fa, fb] = [floor.get(a), floor.get(b)];
    const unknown = [a, b].filter((u) => !floor.has(u));
    if (unknown.length) {
      out.push(
        `${from} imports ${to}: ${unknown.join(" and ")} is on no floor; add it to FLOORS in test/layers/rules.ts (and to the README drawing)`,
      );
      continue;
    }
    const limit = rules.reach[a];
    const ceiling =
      limit === undefined ? (fa as number) - 1 : (floor.get(limit) as number);
    if ((fb as number) > ceiling) {
      const why =
        fb === fa
          ? "sideways, on one floor"
          : (fb as number) > (fa as number)
            ? "up"
            : `past its reach (${limit})`;
      out.push(
        `${from} imports ${to}: ${a} may not import ${b} (${why}); move the shared piece down, or change the rule in test/layers/rules.ts with the reason`,
      );
    }
  }
  return out;
}

/**
 * Each import cycle between files as one line, "a.ts -> b.ts -> a.ts": the files of every
 * strongly connected component of more than one file (or a file importing itself), the cycle
 * shown as a path through them from the first in sort order.
 */
export function fileCycles(edges: Edge[]): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    const list = next.get(from) ?? [];
    if (!list.includes(to)) list.push(to);
    next.set(from, list);
  }
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of (next.get(v) ?? []).sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w))
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    components.push(component.sort());
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return components
    .filter(
      (c) =>
        c.length > 1 ||
        (next.get(c[0] as string) ?? []).includes(c[0] as string),
    )
    .map((c) => {
      const path = cyclePath(c, next);
      const more = c.filter((f) => !path.includes(f));
      return `${path.join(" -> ")}${more.length ? ` (with ${more.join(", ")})` : ""}`;
    })
    .sort();
}

/** A shortest way from the component's first file back to itself, inside the component. */
function cyclePath(component: string[], next: Map<string, string[]>): string[] {
  const start = component[0] as string;
  const inside = new Set(component);
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift() as string;
    for (const w of (next.get(v) ?? []).sort()) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = previous.get(at) as string)
          path.splice(1, 0, at);
        return [...path, start];
      }
      if (previous.has(w)) continue;
      previous.set(w, v);
      queue.push(w);
    }
  }
  return [start, start];
}
