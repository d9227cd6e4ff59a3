// What setup says about watching the changer: the cron line that refreshes the Prometheus
// metrics (node_exporter's textfile collector) and the Nagios/Icinga check. Printed, not
// installed: both belong to monitoring the admin may not run.
import type { GenerateOptions } from "./udev.ts";

/** Debian's node_exporter reads *.prom files here (prometheus-node-exporter's textfile collector). */
export const TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

export function monitoringNotes(o: GenerateOptions): string[] {
  // cron skips /etc/cron.d files whose names hold anything but letters, digits, _ and -.
  const stem = o.config.name.replace(/[^A-Za-z0-9_-]/g, "-");
  return [
    `to export metrics for Prometheus every minute (node_exporter's textfile collector; Debian: apt-get install prometheus-node-exporter): echo '* * * * * root ${o.binary} status -c ${o.configPath} --prometheus ${TEXTFILE_DIR}/magchanger-${stem}.prom' > /etc/cron.d/magchanger-${stem}-metrics (no disk is mounted for it)`,
    `to watch it from Nagios or Icinga: ${o.binary} check -c ${o.configPath} (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; as root, e.g. through sudo: see \`man magchanger-check\`)`,
  ];
}
