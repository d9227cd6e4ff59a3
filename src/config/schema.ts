// The one configuration shape. TOML files and legacy vchanger.conf files both end up here.
// The schemas themselves are in schema-zod.ts, loaded on first use: a call answered from the
// validated-config cache (config/cache.ts) never loads or initializes zod.
import type * as z from "zod/mini";
import type { Schemas } from "./schema-zod.ts";

export { MAPPER_PATTERN, NAME_PATTERN } from "./schema-patterns.ts";
export { configIssueMessage } from "./schema-messages.ts";

let schemas: Schemas | undefined;

/** The zod schema of a config file (built once, on first call). */
export function getConfigSchema(): Schemas["configSchema"] {
  // require(), not import: the bundler then initializes schema-zod.ts (and zod) only here,
  // while its own static imports keep zod tree-shaken.
  schemas ??= (
    require("./schema-zod.ts") as typeof import("./schema-zod.ts")
  ).buildSchemas();
  return schemas.configSchema;
}

export type ConfigInput = z.input<Schemas["configSchema"]>;
export type MagazineConfig = z.output<Schemas["magazineSchema"]>;
export type LegacyConfig = z.output<Schemas["legacySchema"]>;

/** A validated configuration with every default applied. */
export interface Config extends Omit<
  z.output<Schemas["configSchema"]>,
  "work_dir" | "log_file"
> {
  work_dir: string;
  log_file: string;
  /** The file it was loaded from. */
  source: string;
}
