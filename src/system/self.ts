// The argv that runs this magchanger again (eject's unloads, the metrics root writes): the
// compiled binary, or bun with src/main.ts when running from source.
import { join } from "node:path";

export function selfArgv(): string[] {
  return import.meta.path.startsWith("/$bunfs/")
    ? [process.execPath]
    : [process.execPath, join(import.meta.dir, "..", "main.ts")];
}
