// A directory tree as data (type, mode, owner, mtime, content): "nothing changed" is equality.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";

export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, {
    recursive: true,
    withFileTypes: true,
  })) {
    const path = join(entry.parentPath, entry.name);
    const s = lstatSync(path);
    const what = s.isSymbolicLink()
      ? `-> ${readlinkSync(path)}`
      : s.isFile()
        ? readFileSync(path).toString("base64")
        : "dir";
    out[relative(dir, path)] =
      `${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.mtimeMs} ${what}`;
  }
  return out;
}
