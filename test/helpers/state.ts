// Checks over a changer's work dir: a byte-and-inode snapshot (did a command write anything?)
// and the invariants every command must keep (no slot in two drives, links match the state).
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { TestChanger } from "./changer.ts";

export interface EntrySnapshot {
  type: "file" | "dir" | "link" | "other";
  ino: string;
  mtimeNs: string;
  ctimeNs: string;
  size: string;
  uid: number;
  gid: number;
  mode: number;
  /** sha256 of a file's bytes, or a symlink's target. */
  content?: string;
}

/** Every entry under dir (dir itself as "."), with what a write would change. */
export function snapshotDir(dir: string): Record<string, EntrySnapshot> {
  const result: Record<string, EntrySnapshot> = {};
  const visit = (relative: string) => {
    const path = join(dir, relative);
    const st = lstatSync(path, { bigint: true });
    const type = st.isFile()
      ? "file"
      : st.isDirectory()
        ? "dir"
        : st.isSymbolicLink()
          ? "link"
          : "other";
    const entry: EntrySnapshot = {
      type,
      ino: String(st.ino),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
      size: String(st.size),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mode: Number(st.mode),
    };
    if (type === "file")
      entry.content = createHash("sha256")
        .update(readFileSync(path))
        .digest("hex");
    if (type === "link") entry.content = readlinkSync(path);
    result[relative] = entry;
    if (type === "dir")
      for (const name of readdirSync(path).sort())
        visit(relative === "." ? name : join(relative, name));
  };
  visit(".");
  return result;
}

/** The invariants of DESIGN properties 2 and 3 on disk, as a list of problems (empty = fine). */
export function driveProblems(
  changer: TestChanger,
  options: { linksSettled?: boolean } = {},
): string[] {
  const problems: string[] = [];
  let drives: ReturnType<TestChanger["readDrives"]>;
  try {
    drives = changer.readDrives();
  } catch (error) {
    return [`drives.json: ${(error as Error).message}`];
  }
  const holder = new Map<number, number>();
  for (let drive = 0; drive < changer.drives; drive++) {
    const state = drives[drive];
    if (state) {
      const other = holder.get(state.slot);
      if (other !== undefined)
        problems.push(`slot ${state.slot} is in drives ${other} and ${drive}`);
      holder.set(state.slot, drive);
    }
    if (options.linksSettled === false) continue;
    let target: string;
    try {
      target = readlinkSync(changer.driveLink(drive));
    } catch (error) {
      problems.push(`drive${drive}: ${(error as NodeJS.ErrnoException).code}`);
      continue;
    }
    const expected = state ? state.target : changer.emptyTarget(drive);
    if (target !== expected)
      problems.push(`drive${drive} -> ${target}, state says ${expected}`);
  }
  return problems;
}

/** Problems in `listall` output: malformed lines, one slot in two drives, a drive's slot listed full. */
export function listallProblems(output: string, drives: number): string[] {
  const problems: string[] = [];
  const lines = output.split("\n");
  if (lines.pop() !== "") problems.push("output does not end with a newline");
  const inDrive = new Map<number, number>();
  const fullSlots = new Set<number>();
  lines.forEach((line, i) => {
    let m: RegExpExecArray | null;
    if (i < drives) {
      if ((m = /^D:(\d+):F:(\d+):[A-Za-z0-9_.-]+$/.exec(line))) {
        const slot = Number(m[2]);
        if (inDrive.has(slot))
          problems.push(
            `slot ${slot} in drives ${inDrive.get(slot)} and ${m[1]}`,
          );
        inDrive.set(slot, Number(m[1]));
      } else if (!/^D:\d+:E$/.test(line))
        problems.push(`bad drive line "${line}"`);
      if (!line.startsWith(`D:${i}:`))
        problems.push(`drive line ${i} is "${line}"`);
    } else if ((m = /^S:(\d+):F:[A-Za-z0-9_.-]+$/.exec(line))) {
      fullSlots.add(Number(m[1]));
    } else if (!/^S:\d+:E$/.test(line))
      problems.push(`bad slot line "${line}"`);
  });
  for (const slot of inDrive.keys())
    if (fullSlots.has(slot))
      problems.push(`slot ${slot} is in a drive and listed full`);
  return problems;
}
