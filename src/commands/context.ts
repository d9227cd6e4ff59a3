// Shared start of every command that works on one changer: config, identity, log, OS seam.
import type { ChangerContext } from "../changer/context.ts";
import { readConfigFile } from "../config/load.ts";
import { createFileLog } from "../log.ts";
import { dropBeforeCache } from "../system/early-drop.ts";
import { dropPrivileges } from "../system/identity.ts";
import { realSystem } from "../system/system.ts";

export interface RunAsOverride {
  user?: string | undefined;
  group?: string | undefined;
}

export function openChanger(
  configPath: string,
  runAs: RunAsOverride = {},
): ChangerContext {
  // Root reads the validated-config cache (the run-as user writes it) only after becoming that
  // user, named by root's own config or -u/-g (system/early-drop.ts); otherwise it validates first.
  const early = process.getuid?.() === 0 ? dropBeforeCache(runAs) : undefined;
  const loaded = readConfigFile(configPath, {
    useCache: true,
    ...(early ? { beforeCache: early.drop, acceptCached: early.accepts } : {}),
  });
  const { config } = loaded;
  // Privileges go before anything under work_dir or the log is touched.
  const note =
    early?.check(config) ??
    dropPrivileges({
      user: runAs.user ?? config.user,
      group: runAs.group ?? config.group,
    });
  const log = createFileLog(config.log_file, config.log_level, config.name);
  log.debug(note);
  for (const line of loaded.notes) log.debug(`config: ${line}`);
  return { config, log, sys: realSystem(config.tools), loadedConfig: loaded };
}
