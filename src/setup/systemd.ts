// The systemd units that tell Bacula about disk changes without blocking udev: unlock queues
// magchanger-refresh@STEM.service (`systemctl restart --no-block`, a full refresh), and the timer
// of the same name starts magchanger-retry@STEM.service, which repeats an update that did not
// finish and otherwise exits without scanning the bays (stat'ing an autofs bay mounts the disk).
// The templates are shared by every changer on the host, so their text depends on the binary
// alone; a changer whose refresh may take longer than the templates allow gets drop-ins of its own.
import type { Config } from "../config/schema.ts";
import {
  configStem,
  isUnitInstance,
  REFRESH_SERVICE_TEMPLATE,
  REFRESH_TIMER_TEMPLATE,
  refreshUnit,
  RETRY_SERVICE_TEMPLATE,
  retryUnit,
  SYSTEMD_UNIT_DIR,
} from "../system/systemd.ts";
import { DEFAULT_CONFIG_DIR } from "../config/discover.ts";
import { type GenerateOptions, generatedBy } from "./udev.ts";

/** The template's start timeout: refresh with the defaults (lock_timeout 60, [bacula] timeout 120) needs at most ~300 s. */
export const REFRESH_TIMEOUT_S = 600;

/**
 * The template's stop timeout: what a notifier with the default [notify] timeout (60 s) may
 * still need when the refresh that started it is stopped (KillMode=mixed, see serviceBody).
 */
export const REFRESH_STOP_TIMEOUT_S = 90;

/** How long a stopped refresh's notifier may go on: its timeout, its 5 s SIGKILL grace, and a margin. */
export function refreshStopSeconds(config: Config): number {
  return Math.ceil((config.notify?.timeout ?? 60) + 30);
}

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
# \`magchanger unlock\` (udev) queues it with \`systemctl restart --no-block\` after opening or closing
# a disk: udev kills RUN+= programs after 180 s, and refresh waits for the changer lock and for
# bconsole. A failed or killed refresh leaves a durable pending mark: the next run, or
# ${RETRY_SERVICE_TEMPLATE} started by ${REFRESH_TIMER_TEMPLATE}, repeats the update.
${serviceBody("tell Bacula about the volumes of changer %i", binary, "refresh")}`;
}

export function retryService(binary: string): string {
  return `# magchanger: repeat a Bacula update of changer %i that did not finish; started by
# ${REFRESH_TIMER_TEMPLATE}. \`refresh --if-pending\` reads the work dir's refresh.json alone and,
# when no update is pending, exits without scanning the bays: stat'ing an autofs bay mounts the
# disk, which must not be pulled while it is mounted. Disk changes are reported by
# ${REFRESH_SERVICE_TEMPLATE}, which unlock queues.
${header(binary)}${serviceBody("retry a pending Bacula update of changer %i", binary, "refresh --if-pending")}`;
}

// ExecStartPre finishes what udev could not when a disk was pulled without eject: RUN+= programs
// cannot unmount (systemd-udevd's PrivateMounts), so the dead mount of the pulled disk and its
// LUKS mapping stay until something outside udev releases them, and until then no disk opens
// under that name. Only a mapping whose disk the kernel says is gone is touched; "-": a failure
// there must not keep Bacula from being told.
// KillMode=mixed: unlock restarts the refresh on every plug, and a stop signals only the refresh
// itself, which lets a running notifier end and records its event before it exits
// (events/deliver.ts); systemd SIGKILLs what is left once it has. Under the default
// control-group mode the notifier got SIGTERM too, and the next delivery, which counts a started
// notifier that has ended as delivered, counted an event the notifier never sent.
// No User=/Group=: the template serves every changer, each with its own run-as user. The
// service starts refresh as root, which reads only the root-owned config (config/read.ts refuses
// any other) and switches to the config's user and group, supplementary groups included (so
// Debian's root:bacula 0640 bconsole.conf stays readable), before it touches the work dir, the
// log or bconsole.
function serviceBody(what: string, binary: string, command: string): string {
  return `[Unit]
Description=magchanger: ${what}
After=autofs.service bacula-sd.service bacula-director.service

[Service]
Type=oneshot
ExecStartPre=-${binary} unlock --release-stale -c ${DEFAULT_CONFIG_DIR}/%i.toml
ExecStart=${binary} ${command} -c ${DEFAULT_CONFIG_DIR}/%i.toml
TimeoutStartSec=${REFRESH_TIMEOUT_S}
KillMode=mixed
TimeoutStopSec=${REFRESH_STOP_TIMEOUT_S}
`;
}

export function refreshTimer(binary: string): string {
  return `# magchanger: the safety net of ${REFRESH_SERVICE_TEMPLATE}: repeat a Bacula update that
# failed (Director down, bconsole timed out) through ${RETRY_SERVICE_TEMPLATE}, which does
# nothing (and mounts no disk) when no update is pending.
# Enabled per changer: systemctl enable --now magchanger-refresh@NAME.timer
${header(binary)}
[Unit]
Description=magchanger: retry a pending Bacula update of changer %i

[Timer]
Unit=magchanger-retry@%i.service
OnBootSec=2min
OnUnitActiveSec=15min

[Install]
WantedBy=timers.target
`;
}

/** Where this changer's drop-in for the refresh service, or the retry service, goes. */
export function refreshDropInPath(
  configPath: string,
  service: "refresh" | "retry" = "refresh",
): string {
  const stem = configStem(configPath);
  const unit =
    service === "retry" ? retryUnit(stem) : refreshUnit(stem, "service");
  return `${SYSTEMD_UNIT_DIR}/${unit}.d/magchanger-timeout.conf`;
}

/** This changer's start and stop timeouts, when the templates' are too short for it (both services). */
export function refreshDropIn(o: GenerateOptions): string | undefined {
  const { config } = o;
  const seconds = refreshSeconds(config);
  const stop = refreshStopSeconds(config);
  const longStart = seconds > REFRESH_TIMEOUT_S;
  const longStop = stop > REFRESH_STOP_TIMEOUT_S;
  if (!(longStart || longStop) || !isUnitInstance(configStem(o.configPath)))
    return undefined;
  const why = [
    longStart
      ? `# refresh may wait 2 x lock_timeout (${config.lock_timeout} s) for the changer lock and [bacula] timeout
# (${config.bacula.timeout} s) for bconsole: more than the template's ${REFRESH_TIMEOUT_S} s to start.`
      : undefined,
    longStop
      ? `# a stopped refresh's notifier may run its [notify] timeout (${config.notify?.timeout} s) to the end:
# more than the template's ${REFRESH_STOP_TIMEOUT_S} s to stop.`
      : undefined,
  ].filter((l) => l !== undefined);
  return `# magchanger changer "${config.name}":
${why.join("\n")}
${generatedBy(o)}
[Service]
${longStart ? `TimeoutStartSec=${seconds}\n` : ""}${longStop ? `TimeoutStopSec=${stop}\n` : ""}`;
}

export const REFRESH_SERVICE_PATH = `${SYSTEMD_UNIT_DIR}/${REFRESH_SERVICE_TEMPLATE}`;
export const REFRESH_TIMER_PATH = `${SYSTEMD_UNIT_DIR}/${REFRESH_TIMER_TEMPLATE}`;
export const RETRY_SERVICE_PATH = `${SYSTEMD_UNIT_DIR}/${RETRY_SERVICE_TEMPLATE}`;
