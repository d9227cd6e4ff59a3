// What `magchanger eject` needs around ejectDisk: root, the config read as root, the log opened
// as unlock opens it (no link followed, a file root creates handed to the run-as user), and this
// binary to run children.
import type { ChangerContext } from "../changer/context.ts";
import { readConfigFile } from "../config/load.ts";
import { AppError } from "../errors.ts";
import { openChangerLogAsRoot, teeToStderr } from "../log.ts";
import { exec, toolEnvironment } from "../system/exec.ts";
import { selfArgv } from "../system/self.ts";
import { realSystem } from "../system/system.ts";
import { ejectDisk, type EjectResult } from "./eject.ts";

export async function ejectAsRoot(options: {
  config: string;
  target?: string | undefined;
  waitSeconds: number;
}): Promise<EjectResult> {
  if (process.geteuid?.() !== 0)
    throw new AppError(
      `eject unmounts a disk and closes its LUKS mapping: run it as root (sudo magchanger eject -c ${options.config})`,
    );
  const { config } = readConfigFile(options.config, { useCache: false });
  // Only the safe way (as unlock): never through a link the run-as user planted in the log dir.
  const file = openChangerLogAsRoot(config, config.name);
  const sysRoot = process.env.MAGCHANGER_SYSFS_ROOT;
  const ctx: ChangerContext = {
    config,
    log: teeToStderr(file, "warn"),
    // Where /sys is: tests hand in a tree of their own, as they do to unlock.
    sys: { ...realSystem(config.tools), ...(sysRoot ? { sysRoot } : {}) },
  };
  const timeoutMs = (config.bacula.timeout + config.lock_timeout + 60) * 1000;
  try {
    return await ejectDisk(ctx, {
      target: options.target,
      waitSeconds: options.waitSeconds,
      runSelf: async (args) =>
        exec([...selfArgv(), ...args], { timeoutMs, env: toolEnvironment() }),
    });
  } finally {
    ctx.log.close();
  }
}
