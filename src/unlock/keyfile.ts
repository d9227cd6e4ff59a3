// The LUKS key file is only ever named to cryptsetup (--key-file PATH): magchanger never reads
// it, so the key cannot reach argv, the log or an error message. It is checked up front because
// a key that others can read is a key that has leaked.
import { type Stats, statSync } from "node:fs";
import { AppError, describeErrno } from "../errors.ts";

export function checkKeyFile(path: string, configFile: string): void {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw new AppError(
      `key file ${path} (luks.key_file in ${configFile}): ${describeErrno(error)}; create it (dd if=/dev/random of=${path} bs=512 count=8; chmod 0400 ${path}) or fix luks.key_file`,
      { cause: error },
    );
  }
  if (!stats.isFile()) {
    throw new AppError(
      `key file ${path} (luks.key_file in ${configFile}) is not a regular file; point luks.key_file at the key`,
    );
  }
  if (stats.uid !== 0) {
    throw new AppError(
      `refusing key file ${path}: it is owned by uid ${stats.uid}, not root; run: chown root:root ${path}`,
    );
  }
  if ((stats.mode & 0o077) !== 0) {
    const mode = (stats.mode & 0o7777).toString(8).padStart(4, "0");
    throw new AppError(
      `refusing key file ${path}: mode ${mode} lets group/other at the key; run: chmod 0400 ${path}`,
    );
  }
  if (stats.size === 0) {
    throw new AppError(
      `refusing key file ${path}: it is empty; write the key the disks were formatted with`,
    );
  }
}
