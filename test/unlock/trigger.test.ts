// queueRefresh: unlock hands the refresh to systemd (`restart --no-block`) and never fails for it.
// A staged root stands in for the host: /run/systemd/system, the unit and the config below it.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import type { Exec, ExecResult } from "../../src/system/exec.ts";
import {
  queueRefresh,
  SYSTEMCTL_TIMEOUT_MS,
} from "../../src/unlock/trigger.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { memoryLog } from "../helpers/log.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

describe("queueRefresh", () => {
  let root = "";
  let systemctl = "";
  let calls: { argv: string[]; timeoutMs: number | undefined }[] = [];
  let result: Partial<ExecResult> = {};
  let log: ReturnType<typeof memoryLog>;

  const fakeExec: Exec = async (argv, options = {}) => {
    calls.push({ argv, timeoutMs: options.timeoutMs });
    return {
      exitCode: 0,
      signal: null,
      stdout: "",
      stderr: "",
      timedOut: false,
      ms: 1,
      ...result,
    };
  };

  /** The config at ROOT/etc/magchanger/STEM.toml, where the unit's %i points. */
  function config(stem = "usb1", at?: string): Config {
    const file = at ?? join(root, "etc/magchanger", `${stem}.toml`);
    const text = `name = "usb1"\n[[magazine]]\npath = "/mnt/usb1/magazine"\n[tools]\nsystemctl = "${systemctl}"\n`;
    writeFileSync(file, text);
    return parseConfigText(text, file);
  }

  const run = (c: Config) =>
    queueRefresh(c, {
      exec: fakeExec,
      log,
      env: { MAGCHANGER_SYSTEMD_ROOT: root },
    });

  beforeEach(() => {
    root = makeTempDir("trigger");
    dirs.push(root);
    for (const d of [
      "run/systemd/system",
      "etc/systemd/system",
      "etc/magchanger",
      "bin",
    ])
      mkdirSync(join(root, d), { recursive: true });
    writeFileSync(
      join(root, "etc/systemd/system/magchanger-refresh@.service"),
      "",
    );
    systemctl = join(root, "bin/systemctl");
    writeFileSync(systemctl, "", { mode: 0o755 });
    calls = [];
    result = {};
    log = memoryLog();
  });

  test("queues magchanger-refresh@STEM.service without waiting, bounded by a short timeout", async () => {
    expect(await run(config())).toBe("queued");
    expect(calls).toEqual([
      {
        argv: [
          systemctl,
          "restart",
          "--no-block",
          "magchanger-refresh@usb1.service",
        ],
        timeoutMs: 5000,
      },
    ]);
    expect(SYSTEMCTL_TIMEOUT_MS).toBe(5000);
    expect(log.lines).toEqual([
      "info: queued magchanger-refresh@usb1.service: Bacula is told in the background",
    ]);
  });

  test("a unit installed by a package (/usr/lib/systemd/system) counts too", async () => {
    mkdirSync(join(root, "usr/lib/systemd/system"), { recursive: true });
    writeFileSync(
      join(root, "usr/lib/systemd/system/magchanger-refresh@.service"),
      "",
    );
    rmSync(join(root, "etc/systemd/system/magchanger-refresh@.service"));
    expect(await run(config())).toBe("queued");
  });

  const skips: [string, () => Config, string][] = [
    [
      "no systemd as PID 1",
      () => {
        rmSync(join(root, "run/systemd"), { recursive: true });
        return config();
      },
      "debug: systemd is not running (no /run/systemd/system): no refresh queued; run magchanger refresh -c ROOT/etc/magchanger/usb1.toml to tell Bacula",
    ],
    [
      "the unit is not installed",
      () => {
        rmSync(join(root, "etc/systemd/system/magchanger-refresh@.service"));
        return config();
      },
      "info: magchanger-refresh@.service is not installed: no refresh queued; run magchanger setup -c ROOT/etc/magchanger/usb1.toml --write, or run magchanger refresh -c ROOT/etc/magchanger/usb1.toml to tell Bacula",
    ],
    [
      "a config file name systemd cannot take as an instance",
      () => config("usb+1"),
      'info: config file name "usb+1" cannot name a systemd unit: no refresh queued; rename ROOT/etc/magchanger/usb+1.toml with letters, digits and _.:- only, or run magchanger refresh -c ROOT/etc/magchanger/usb+1.toml to tell Bacula',
    ],
    [
      "a config outside the dir the unit reads",
      () => config("usb1", join(root, "usb1.toml")),
      "info: magchanger-refresh@usb1.service reads /etc/magchanger/usb1.toml, which is not ROOT/usb1.toml: no refresh queued; install the config as /etc/magchanger/usb1.toml, or run magchanger refresh -c ROOT/usb1.toml to tell Bacula",
    ],
    [
      "systemctl is missing",
      () => {
        systemctl = join(root, "bin/no-systemctl");
        return config();
      },
      "info: ROOT/bin/no-systemctl is not installed: no refresh queued; set [tools] systemctl in ROOT/etc/magchanger/usb1.toml, or run magchanger refresh -c ROOT/etc/magchanger/usb1.toml to tell Bacula",
    ],
  ];
  for (const [what, make, line] of skips) {
    test(`${what}: skipped with one log line, systemctl not run`, async () => {
      expect(await run(make())).toBe("skipped");
      expect(calls).toEqual([]);
      expect(log.lines).toEqual([line.replaceAll("ROOT", root)]);
    });
  }

  test("systemctl failing is a warning saying to run refresh by hand", async () => {
    result = {
      exitCode: 1,
      stderr:
        "Failed to start magchanger-refresh@usb1.service: Unit not found.\n",
    };
    expect(await run(config())).toBe("failed");
    expect(log.lines).toEqual([
      `warn: ${systemctl} restart --no-block magchanger-refresh@usb1.service failed with exit 1: Failed to start magchanger-refresh@usb1.service: Unit not found.: no refresh queued; run magchanger refresh -c ${root}/etc/magchanger/usb1.toml to tell Bacula`,
    ]);
  });

  test("systemctl timing out is a warning", async () => {
    result = { exitCode: 137, timedOut: true, signal: "SIGKILL" };
    expect(await run(config())).toBe("failed");
    expect(log.lines[0]).toStartWith(
      `warn: ${systemctl} restart --no-block magchanger-refresh@usb1.service timed out after 5 s and was killed: no refresh queued;`,
    );
  });

  test("systemctl that cannot start at all is a warning, not an exception", async () => {
    const c = config();
    const throwing: Exec = async () => {
      throw new Error("cannot run systemctl: EACCES");
    };
    const outcome = await queueRefresh(c, {
      exec: throwing,
      log,
      env: { MAGCHANGER_SYSTEMD_ROOT: root },
    });
    expect(outcome).toBe("failed");
    expect(log.lines).toEqual([
      `warn: could not queue the refresh of Bacula: cannot run systemctl: EACCES; run magchanger refresh -c ${c.source}`,
    ]);
  });
});
