// The refresh units setup generates: exact key lines, shared by every changer, drop-ins when a
// changer's refresh may outlast the templates' timeout, and accepted by systemd-analyze verify.
import { skipUnless, toolPath } from "../helpers/capabilities.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { planSetup } from "../../src/setup/plan.ts";
import {
  refreshDropIn,
  refreshService,
  refreshTimer,
  retryService,
} from "../../src/setup/systemd.ts";
import type { GenerateOptions } from "../../src/setup/udev.ts";
import { ensureBinary, tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const BIN = "/usr/local/bin/magchanger";

function options(
  extra = "",
  configPath = "/etc/magchanger/usbchanger1.toml",
): GenerateOptions {
  const config = parseConfigText(
    `name = "usbchanger1"\n${extra}\n[[magazine]]\npath = "/mnt/usbchanger1/magazine"\n`,
    configPath,
  );
  return { config, configPath, binary: BIN, mediaType: "usbchanger1" };
}

const keyLines = (text: string) =>
  text.split("\n").filter((l) => l && !l.startsWith("#"));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

describe("refresh units", () => {
  test("the service releases a stale mapping of a pulled disk, then runs refresh on the config named by the instance, one shot, no shell", () => {
    expect(keyLines(refreshService(BIN))).toEqual([
      "[Unit]",
      "Description=magchanger: tell Bacula about the volumes of changer %i",
      "After=autofs.service bacula-sd.service bacula-director.service",
      "[Service]",
      "Type=oneshot",
      "ExecStartPre=-/usr/local/bin/magchanger unlock --release-stale -c /etc/magchanger/%i.toml",
      "ExecStart=/usr/local/bin/magchanger refresh -c /etc/magchanger/%i.toml",
      "TimeoutStartSec=600",
      "KillMode=mixed",
      "TimeoutStopSec=90",
    ]);
  });

  test("the retry service runs refresh --if-pending, otherwise like the refresh service", () => {
    expect(keyLines(retryService(BIN))).toEqual([
      "[Unit]",
      "Description=magchanger: retry a pending Bacula update of changer %i",
      "After=autofs.service bacula-sd.service bacula-director.service",
      "[Service]",
      "Type=oneshot",
      "ExecStartPre=-/usr/local/bin/magchanger unlock --release-stale -c /etc/magchanger/%i.toml",
      "ExecStart=/usr/local/bin/magchanger refresh --if-pending -c /etc/magchanger/%i.toml",
      "TimeoutStartSec=600",
      "KillMode=mixed",
      "TimeoutStopSec=90",
    ]);
  });

  test("the timer starts the retry service after boot and every 15 minutes, enabled per changer", () => {
    expect(keyLines(refreshTimer(BIN))).toEqual([
      "[Unit]",
      "Description=magchanger: retry a pending Bacula update of changer %i",
      "[Timer]",
      "Unit=magchanger-retry@%i.service",
      "OnBootSec=2min",
      "OnUnitActiveSec=15min",
      "[Install]",
      "WantedBy=timers.target",
    ]);
  });

  test("setup plans the three templates with the same text for every changer (one file on the host)", () => {
    const pieces = (o: GenerateOptions) =>
      planSetup(o)
        .pieces.filter((p) => p.path.startsWith("/etc/systemd/"))
        .map((p) => [p.path, p.kind === "file" ? p.content : ""]);
    const first = pieces(options());
    expect(first.map(([path]) => path)).toEqual([
      "/etc/systemd/system/magchanger-refresh@.service",
      "/etc/systemd/system/magchanger-retry@.service",
      "/etc/systemd/system/magchanger-refresh@.timer",
    ]);
    const other = options(
      'drives = 3\n[bacula]\ntimeout = 300\n[luks]\nmapper = "other"',
      "/etc/magchanger/offsite.toml",
    );
    expect(pieces(other)).toEqual(first);
  });

  test("the next steps reload systemd and enable this changer's timer by its config's name", () => {
    const notes = planSetup(options("", "/etc/magchanger/usb-1.toml")).notes;
    expect(notes).toContain(
      "enable the refresh safety net (it retries a Bacula update that failed): systemctl enable --now magchanger-refresh@usb-1.timer",
    );
    expect(notes.find((n) => n.startsWith("load the new"))).toContain(
      "systemctl daemon-reload",
    );
  });

  test("a changer whose refresh may outlast 600 s gets a drop-in with its own timeout for both services", () => {
    expect(refreshDropIn(options())).toBeUndefined();
    const slow = options("lock_timeout = 300\n[bacula]\ntimeout = 900");
    expect(keyLines(refreshDropIn(slow) as string)).toEqual([
      "[Service]",
      "TimeoutStartSec=1560",
    ]);
    const pieces = planSetup(slow).pieces.filter((p) =>
      p.path.includes(".service.d/"),
    );
    expect(pieces.map((p) => [p.path, p.kind === "file" && p.content])).toEqual(
      [
        [
          "/etc/systemd/system/magchanger-refresh@usbchanger1.service.d/magchanger-timeout.conf",
          refreshDropIn(slow) as string,
        ],
        [
          "/etc/systemd/system/magchanger-retry@usbchanger1.service.d/magchanger-timeout.conf",
          refreshDropIn(slow) as string,
        ],
      ],
    );
  });

  test("a changer whose notifier may outlast the template's stop timeout gets a drop-in with its own", () => {
    expect(
      refreshDropIn(options('[notify]\ncommand = ["/bin/true"]\ntimeout = 60')),
    ).toBeUndefined();
    const slowNotifier = options(
      '[notify]\ncommand = ["/bin/true"]\ntimeout = 300',
    );
    expect(keyLines(refreshDropIn(slowNotifier) as string)).toEqual([
      "[Service]",
      "TimeoutStopSec=330",
    ]);
    const both = options(
      'lock_timeout = 300\n[bacula]\ntimeout = 900\n[notify]\ncommand = ["/bin/true"]\ntimeout = 300',
    );
    expect(keyLines(refreshDropIn(both) as string)).toEqual([
      "[Service]",
      "TimeoutStartSec=1560",
      "TimeoutStopSec=330",
    ]);
  });

  test("a config file name systemd cannot take as an instance gets a note, not a unit", () => {
    const plan = planSetup(
      options("lock_timeout = 900", "/etc/magchanger/usb+1.toml"),
    );
    expect(plan.pieces.some((p) => p.path.includes(".service.d/"))).toBe(false);
    expect(plan.notes.some((n) => n.includes("systemctl enable"))).toBe(false);
    expect(plan.notes).toContain(
      'the config\'s file name "usb+1" cannot name a systemd unit, so unlock cannot queue magchanger-refresh@usb+1.service: rename the config with letters, digits and _.:- only',
    );
  });

  test.skipIf(
    skipUnless(
      ["tool:systemd-analyze"],
      "systemd-analyze verify of the refresh units",
    ),
  )("systemd-analyze verify accepts the three units without a warning", () => {
    const dir = makeTempDir("setup-systemd");
    dirs.push(dir);
    // verify checks that ExecStart exists and is executable: the real binary.
    const binary = realpathSync(ensureBinary());
    mkdirSync(join(dir, "units"));
    const service = join(dir, "units/magchanger-refresh@.service");
    const retry = join(dir, "units/magchanger-retry@.service");
    const timer = join(dir, "units/magchanger-refresh@.timer");
    writeFileSync(service, refreshService(binary));
    writeFileSync(retry, retryService(binary));
    writeFileSync(timer, refreshTimer(binary));
    const result = Bun.spawnSync(
      [toolPath("systemd-analyze") as string, "verify", service, retry, timer],
      {
        stdout: "pipe",
        stderr: "pipe",
        timeout: 30_000,
      },
    );
    expect({
      exitCode: result.exitCode,
      stderr: result.stderr.toString(),
    }).toEqual({ exitCode: 0, stderr: "" });
    // The check itself notices a broken unit.
    writeFileSync(service, refreshService("/nonexistent/magchanger"));
    expect(() =>
      tool([toolPath("systemd-analyze") as string, "verify", service]),
    ).toThrow("is not executable");
  });
});
