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

/**
 * Volumes with content that Bacula's catalog lacks (another or an older catalog, a `delete
 * volume`): they carry a label, so `label barcodes` fails with "3920 Cannot label Volume because
 * it is already labeled" (seen on 9.6.7) and refresh never labels them. Keeping their backups
 * takes bscan; reusing one takes emptying its file, after which refresh labels it like new.
 */
export function withDataAdvice(config: Config, barcodes: string[]): string {
  const one = barcodes.length === 1;
  const shown = barcodes.slice(0, 5).join(", ");
  const names = barcodes.length > 5 ? `${shown}, ...` : shown;
  const they = one ? "it" : "them";
  const relabel = config.bacula.pool
    ? `run \`magchanger refresh -c ${config.source}\`, which labels it into pool ${quoteName(config.bacula.pool)}`
    : `set [bacula] pool in ${config.source} and run \`magchanger refresh -c ${config.source}\`, which labels it`;
  return `${one ? "1 volume holds" : `${barcodes.length} volumes hold`} data but ${one ? "is" : "are"} not in Bacula's catalog (${names}): \`label barcodes\` refuses ${they} ("already labeled"), so refresh leaves ${they} alone; to keep ${one ? "its" : "their"} backups, read ${they} into the catalog with bscan (package bacula-bscan); to reuse one, empty its file on the disk (\`truncate -s 0 MOUNT_POINT/VOLUME\`, which erases its backups) and ${relabel}`;
}
