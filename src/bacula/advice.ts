// Advice shared by refresh, doctor and `magazine list`: one wording, one fix.
import type { Config } from "../config/schema.ts";
import { quoteName } from "./bconsole.ts";

/** "N volumes are not labeled in Bacula" with the fix for this changer's config. */
export function unlabeledAdvice(config: Config, count: number): string {
  const storage = quoteName(config.bacula.storage ?? config.name);
  const volumes = count === 1 ? "1 volume is" : `${count} volumes are`;
  const label = `label barcodes storage=${storage} pool=${config.bacula.pool ? quoteName(config.bacula.pool) : "POOL"} drive=${config.bacula.drive}`;
  return config.bacula.pool
    ? `${volumes} not labeled in Bacula; run \`magchanger refresh -c ${config.source}\` (it labels them into pool ${quoteName(config.bacula.pool)}), or \`${label}\` then \`yes\` in bconsole`
    : `${volumes} not labeled in Bacula; set [bacula] pool in ${config.source} and run \`magchanger refresh -c ${config.source}\` (or run \`${label}\` then \`yes\` in bconsole)`;
}
