// unlock writes the changer's log as root (udev), in a directory the run-as user usually owns.
// That user could have planted a link there (LOGDIR/NAME.log -> /etc/ld.so.preload), so root
// never follows one: the log dir is made or accepted only through links root owns
// (state/owned-dir.ts), the file is opened O_NOFOLLOW, must be the run-as user's or root's with
// one link, and a file root creates is handed to the run-as user through the fd (the changer,
// running as that user, appends to it later). When the log cannot be opened safely, unlock
// says so on stderr (udev's journal) and logs there only.
import { errnoCode } from "../errors.ts";
import type { Config } from "../config/schema.ts";
import { createFileLog, type Log } from "../log.ts";
import { openOwnedDirectory } from "../state/owned-dir.ts";
import { openAppendNoFollow } from "../state/safe-create.ts";
import { lookupGroup, lookupUser } from "../system/identity.ts";
import { printable } from "../text.ts";
import { closeSync } from "node:fs";
import { basename, dirname } from "node:path";

export function openChangerLogAsRoot(config: Config, tag: string): Log {
  const file = config.log_file;
  if (process.geteuid?.() !== 0 || config.log_level === "off")
    return createFileLog(file, config.log_level, tag);
  try {
    const fd = openLogAsRoot(file, config.user, config.group);
    return createFileLog(file, config.log_level, tag, { fd });
  } catch (error) {
    const why = `not writing the log ${printable(file)} as root: ${printable((error as Error).message ?? String(error))}${errnoCode(error) === "ELOOP" ? "; remove the link (only the run-as user's own file or none belongs there)" : ""}`;
    process.stderr.write(`magchanger: warning: ${why}\n`);
    return createFileLog(file, config.log_level, tag, { failure: why });
  }
}

function openLogAsRoot(file: string, userName: string, groupName: string) {
  const user = lookupUser(userName);
  const group = lookupGroup(groupName);
  if (!user || !group)
    throw new Error(
      `run-as user "${userName}" or group "${groupName}" does not exist`,
    );
  const owner = { uid: user.uid, gid: group.gid };
  const dir = openOwnedDirectory(dirname(file), 0o750, owner);
  const entry = dir.entry(basename(file));
  try {
    return openAppendNoFollow(entry, {
      mode: 0o640,
      owners: [user.uid, 0],
      createOwner: owner,
    });
  } catch (error) {
    if (error instanceof Error)
      error.message = error.message.replaceAll(entry, file);
    throw error;
  } finally {
    closeSync(dir.fd);
  }
}
