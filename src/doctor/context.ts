import type { Config } from "../config/schema.ts";
import type { System } from "../system/system.ts";
import type { Who } from "./access.ts";

export interface DoctorContext {
  config: Config;
  /** The config file as given (absolute). */
  configFile: string;
  /** The same file as the live system sees it (the prefix stripped). */
  configPath: string;
  /** Where setup installed the files (/ = the live system). */
  prefix: string;
  /** The magchanger binary the installed files should run; undefined when unknown (run from source). */
  binary: string | undefined;
  /** The run-as user with its groups; undefined when the user does not exist. */
  who: Who | undefined;
  sys: System;
  /** The config dir unlock and automap search (MAGCHANGER_CONFIG_DIR or /etc/magchanger). */
  configDir: string;
}

/** The command that installs what setup generates, for fixes. */
export function setupCommand(ctx: DoctorContext): string {
  return `magchanger setup -c ${ctx.configPath} --write${ctx.prefix === "/" ? "" : ` --prefix ${ctx.prefix}`}`;
}
