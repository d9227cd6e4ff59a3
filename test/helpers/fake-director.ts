// A fake bconsole that plays a Director's catalog for refresh (issue 11): a volume file with
// content counts as labeled (Bacula writes its label into the file), `list volumes` prints those
// as table rows the way Bacula 9.6.7 does, and `label barcodes` writes a label into every blank
// volume file of the bays. Every run's stdin is recorded, appended.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FakeDirector {
  path: string;
  /** What bconsole read on stdin, all runs appended. */
  input: () => string;
}

export function fakeDirector(dir: string, bays: string[]): FakeDirector {
  const path = join(dir, "bconsole");
  const record = join(dir, "bconsole.stdin");
  const where = bays.map((b) => `'${b}'`).join(" ");
  writeFileSync(
    path,
    `#!/bin/bash
in=$(cat); printf '%s\\n' "$in" >> '${record}'
if grep -q '^label barcodes' <<<"$in"; then
  find ${where} -maxdepth 2 -type f -empty -exec sh -c 'printf label > "$1"' _ {} \\;
fi
if grep -q '^list volumes' <<<"$in"; then
  find ${where} -maxdepth 2 -type f ! -empty -printf '| 1 | %f | Append |\\n'
fi
`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    input: () => {
      try {
        return readFileSync(record, "utf8");
      } catch {
        return "";
      }
    },
  };
}

/** The stdin of one refresh session without a pool (update, catalog, storage status). */
export function updateSession(storage: string, drive = 0): string {
  return `update slots storage="${storage}" drive=${drive}\nlist volumes\nstatus storage="${storage}"\nquit\n`;
}
