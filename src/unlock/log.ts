// unlock writes the changer's log as root (udev). A log file that root creates would be
// root:root 0640 in a root-only directory, and the changer, which runs as the run-as user,
// could never write to it again: so root hands a new log file (and a new directory) over to the
// run-as user and group first.
import { chownSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { createFileLog, type Log } from "../log.ts";
import { lookupGroup, lookupUser } from "../system/identity.ts";

export function openChangerLogAsRoot(config: Config, tag: string): Log {
  if (process.geteuid?.() === 0 && config.log_level !== "off")
    handOver(config.log_file, config.user, config.group);
  return createFileLog(config.log_file, config.log_level, tag);
}

function handOver(file: string, userName: string, groupName: string): void {
  if (existsSync(file)) return;
  const user = lookupUser(userName);
  const group = lookupGroup(groupName);
  if (!user || !group) return;
  try {
    const dir = dirname(file);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      chownSync(dir, user.uid, group.gid);
    }
    closeSync(openSync(file, "a", 0o640));
    chownSync(file, user.uid, group.gid);
  } catch {
    // Best effort, like the log itself: createFileLog reports what it cannot write.
  }
}
