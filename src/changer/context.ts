import type { LoadedConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { Log } from "../log.ts";
import type { System } from "../system/system.ts";

/** Everything a changer operation needs, handed in so tests can run it without a process. */
export interface ChangerContext {
  config: Config;
  log: Log;
  sys: System;
  /** How the config was read; a fresh validation is cached by the next locked command. */
  loadedConfig?: LoadedConfig;
}
