// The runtime's start-up floor: a trivial program compiled exactly as dist/magchanger is
// (build.ts's options), so "own work" can be read against what the runtime alone costs.
import { join, resolve } from "node:path";
import { compileOptions } from "../build.ts";

export async function buildFloorBinary(dir: string): Promise<string> {
  const outfile = join(dir, "bun-floor");
  const entry = resolve(import.meta.dir, "floor-entry.ts");
  const result = await Bun.build(compileOptions(entry, outfile));
  if (!result.success)
    throw new Error(
      `bench: building the floor binary failed: ${result.logs.join("; ")}`,
    );
  return outfile;
}
