// The systemd units that tell Bacula about disk changes without blocking udev: unlock queues
// magchanger-refresh@STEM.service (`systemctl start --no-block`), and the timer of the same name
// repeats a refresh that failed. The two templates are shared by every changer on the host, so
// their text depends on the binary alone; a changer whose refresh may take longer than the
// template allows gets a drop-in of its own.
import type { Config } from "../config/schema.ts";
import {
  configStem,
  isUnitInstance,
  REFRESH_SERVICE_TEMPLATE,
  REFRESH_TIMER_TEMPLATE,
  refreshUnit,
  SYSTEMD_UNIT_DIR,
} from "../system/systemd.ts";
import { DEFAULT_CONFIG_DIR } from "../unlock/discover.ts";
import { type GenerateOptions, generatedBy } from "./udev.ts";

/** The template's start timeout: refresh with the defaults (lock_timeout 60, [bacula] timeout 120) needs at most ~300 s. */
export const REFRESH_TIMEOUT_S = 600;

/**
 * The longest a refresh of config may take: the changer lock twice (scan, then recording what
 * Bacula was told), bconsole in between, and a minute for scanning and start-up.
 */
export function refreshSeconds(config: Config): number {
  return Math.ceil(2 * config.lock_timeout + config.bacula.timeout + 60);
}

function header(binary: string): string {
  return `# Written by \`magchanger setup --write\` (for any changer; it runs ${binary}); the next
# --write replaces it (keeping the previous version as FILE.magchanger-bak).
`;
}

export function refreshService(binary: string): string {
  return `# magchanger: tell Bacula what changed in changer %i (update slots; label barcodes for new
# blank volumes) when a disk came or went. One template for every changer: instance NAME runs
# \`magchanger refresh\` on ${DEFAULT_CONFIG_DIR}/NAME.toml, which switches to its run-as user.
${header(binary)}#
# \`magchanger unlock\` (udev) queues it with \`systemctl start --no-block\` after opening or closing
# a disk: udev kills RUN+= programs after 180 s, and refresh waits for the changer lock and for
# bconsole. ${REFRESH_TIMER_TEMPLATE} runs it again: a failed or killed refresh leaves a
# durable pending mark, and the next run repeats the update.
[Unit]
Description=magchanger: tell Bacula about the volumes of changer %i
After=autofs.service bacula-sd.service bacula-director.service

[Service]
Type=oneshot
ExecStart=${binary} refresh -c ${DEFAULT_CONFIG_DIR}/%i.toml
TimeoutStartSec=${REFRESH_TIMEOUT_S}
`;
}

export function refreshTimer(binary: string): string {
  return `# magchanger: the safety net of ${REFRESH_SERVICE_TEMPLATE}: repeat a Bacula update that
# failed (Director down, bconsole timed out) or a disk change unlock could not report.
# Enabled per changer: systemctl enable --now magchanger-refresh@NAME.timer
${header(binary)}
[Unit]
Description=magchanger: retry a pending Bacula update of changer %i

[Timer]
OnBootSec=2min
OnUnitActiveSec=15min

[Install]
WantedBy=timers.target
`;
}

export function refreshDropInPath(configPath: string): string {
  return `${SYSTEMD_UNIT_DIR}/${refreshUnit(configStem(configPath), "service")}.d/magchanger-timeout.conf`;
}

/** This changer's start timeout, when the template's is too short for it. */
export function refreshDropIn(o: GenerateOptions): string | undefined {
  const { config } = o;
  const seconds = refreshSeconds(config);
  if (seconds <= REFRESH_TIMEOUT_S || !isUnitInstance(configStem(o.configPath)))
    return undefined;
  return `# magchanger changer "${config.name}": refresh may wait 2 x lock_timeout (${config.lock_timeout} s) for the
# changer lock and [bacula] timeout (${config.bacula.timeout} s) for bconsole: more than the template's ${REFRESH_TIMEOUT_S} s.
${generatedBy(o)}
[Service]
TimeoutStartSec=${seconds}
`;
}

export const REFRESH_SERVICE_PATH = `${SYSTEMD_UNIT_DIR}/${REFRESH_SERVICE_TEMPLATE}`;
export const REFRESH_TIMER_PATH = `${SYSTEMD_UNIT_DIR}/${REFRESH_TIMER_TEMPLATE}`;
