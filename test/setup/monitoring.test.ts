// What setup prints for monitoring: the cron line that refreshes the Prometheus metrics (a
// /etc/cron.d name cron does not skip) and the Nagios/Icinga check line, both for this config.
import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../src/config/load.ts";
import { monitoringNotes } from "../../src/setup/monitoring.ts";
import { planSetup } from "../../src/setup/plan.ts";
import type { GenerateOptions } from "../../src/setup/udev.ts";

function options(name: string): GenerateOptions {
  const configPath = `/etc/magchanger/${name}.toml`;
  const config = parseConfigText(
    `name = "${name}"\n[[magazine]]\npath = "/mnt/${name}/magazine"\n`,
    configPath,
  );
  return {
    config,
    configPath,
    binary: "/usr/local/bin/magchanger",
    mediaType: name,
  };
}

describe("setup's monitoring notes", () => {
  test("the cron line writes the changer's .prom file into node_exporter's textfile directory every minute", () => {
    expect(monitoringNotes(options("usbchanger1"))).toEqual([
      "to export metrics for Prometheus every minute (node_exporter's textfile collector; Debian: apt-get install prometheus-node-exporter): echo '* * * * * root /usr/local/bin/magchanger status -c /etc/magchanger/usbchanger1.toml --prometheus /var/lib/prometheus/node-exporter/magchanger-usbchanger1.prom' > /etc/cron.d/magchanger-usbchanger1-metrics (no disk is mounted for it)",
      "to watch it from Nagios or Icinga: /usr/local/bin/magchanger check -c /etc/magchanger/usbchanger1.toml (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; as root, e.g. through sudo: see `man magchanger-check`)",
    ]);
  });

  test("a changer name with a dot gets a cron.d file name cron reads (letters, digits, _ and - only)", () => {
    const [cron] = monitoringNotes(options("usb.2"));
    expect(cron).toContain(
      "--prometheus /var/lib/prometheus/node-exporter/magchanger-usb-2.prom' > /etc/cron.d/magchanger-usb-2-metrics ",
    );
  });

  test("setup prints them among its notes", () => {
    const notes = planSetup(options("usbchanger1")).notes;
    for (const note of monitoringNotes(options("usbchanger1")))
      expect(notes).toContain(note);
  });
});
