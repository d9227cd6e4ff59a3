import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig, parseConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";

const base = 'name = "usb1"\n[[magazine]]\npath = "/mnt/usb1/magazine"\n';

describe("TOML config", () => {
  test("the commented example in conf/ loads with every default applied", () => {
    const config = loadConfig(
      join(import.meta.dir, "../../conf/magchanger.toml"),
    );
    expect(config.name).toBe("usbchanger1");
    expect(config.drives).toBe(2);
    expect(config.magazine).toEqual([
      { path: "/mnt/usbchanger1/magazine", allow_unmounted: false },
    ]);
    expect(config.bacula.bconsole).toBe("/usr/sbin/bconsole");
    expect(config.luks.mapper).toBe("bacula");
  });

  test("defaults: work dir and log under the changer name, bacula:tape, one drive", () => {
    const config = parseConfigText(base, "/etc/magchanger/usb1.toml");
    expect(config.work_dir).toBe("/var/lib/magchanger/usb1");
    expect(config.log_file).toBe("/var/log/magchanger/usb1.log");
    expect([
      config.user,
      config.group,
      config.drives,
      config.lock_timeout,
    ]).toEqual(["bacula", "tape", 1, 60]);
  });

  const cases: [string, string, RegExp][] = [
    [
      "syntax error with line",
      'name = "usb1"\ndrives = = 2\n',
      /^config \/c\.toml line 2: /,
    ],
    ["missing name", '[[magazine]]\npath = "/m"\n', /name: name is required/],
    [
      "bad name",
      'name = "usb 1"\n[[magazine]]\npath = "/m"\n',
      /name: name must be 1\.\.63 letters/,
    ],
    [
      "relative magazine path",
      'name = "u"\n[[magazine]]\npath = "m"\n',
      /magazine\[1\]\.path: magazine path must be an absolute path/,
    ],
    ["no magazine", 'name = "u"\n', /magazine: /],
    [
      "two identities",
      'name = "u"\n[[magazine]]\npath = "/m"\nlabel = "x"\n',
      /magazine\[1\]: each \[\[magazine\]\] needs exactly one of path, uuid or label/,
    ],
    [
      "unknown key",
      `${base}colour = "red"\n`,
      /magazine\[1\]: unknown key colour; allowed: path, uuid, label, allow_unmounted/,
    ],
    [
      "unknown top-level key",
      `drivez = 2\n${base}`,
      /top level: unknown key drivez; allowed: name, work_dir/,
    ],
    [
      "drives out of range",
      `drives = 0\n${base}`,
      /drives: drives must be at least 1/,
    ],
    [
      "bad log level",
      `log_level = "loud"\n${base}`,
      /log_level: log_level must be one of debug, info, warn, error, off/,
    ],
    [
      "bad section key",
      `${base}[bacula]\nbconsol = "/x"\n`,
      /bacula: unknown key bconsol; allowed: bconsole, config/,
    ],
  ];
  test.each(cases)(
    "%s: one line naming the file and what is allowed",
    (_what, text, expected) => {
      let error: unknown;
      try {
        parseConfigText(text, "/c.toml");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(expected);
      expect(message).toStartWith("config /c.toml");
      expect(message).not.toContain("\n");
    },
  );

  test("a missing file names the path and the fix", () => {
    expect(() => loadConfig("/nonexistent/x.toml")).toThrow(
      /cannot read config \/nonexistent\/x\.toml: ENOENT/,
    );
  });
});

describe("config errors say what is allowed", () => {
  const base = '[[magazine]]\npath = "/b"\n';
  test.each([
    [
      `name = "a"\nwork_dir = 1\n${base}`,
      "config /etc/x.toml: work_dir: must be an absolute path (starting with /); got 1",
    ],
    [
      `name = "a"\nlock_timeout = 3601\n${base}`,
      "config /etc/x.toml: lock_timeout: must be seconds, more than 0 and at most 3600; got 3601",
    ],
    [
      'name = "a"\n',
      "config /etc/x.toml: magazine: must be one or more [[magazine]] tables, each with one of path, uuid or label; it is missing",
    ],
    [
      `name = "a"\n[bacula]\ndrive = -1\n${base}`,
      "config /etc/x.toml: bacula.drive: must be a drive index 0..63; got -1",
    ],
    [
      `name = 5\n${base}`,
      'config /etc/x.toml: name: name must be the Bacula Storage name in quotes, e.g. name = "usbchanger1"',
    ],
  ])(
    "%#: a wrong type or bound names the key and what it allows",
    (text, message) => {
      expect(() => parseConfigText(text, "/etc/x.toml")).toThrow(message);
    },
  );

  test("two [[magazine]] entries for one bay (/b and //b/) are refused", () => {
    expect(() =>
      parseConfigText(
        'name = "a"\n[[magazine]]\npath = "/b"\n[[magazine]]\npath = "//b/"\n',
        "/etc/x.toml",
      ),
    ).toThrow(
      "config /etc/x.toml: magazine: [[magazine]] 2 names the same bay as [[magazine]] 1 (path /b); give each [[magazine]] its own bay",
    );
  });
});
