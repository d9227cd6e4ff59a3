// vchanger.conf files of both syntaxes read into the same Config a TOML file gives, with
// vchanger's grammar quirks, defaults and every error path.
import { describe, expect, test } from "bun:test";
import { type LoadedConfig, readConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { FULL_10, FULL_086, SEED_08 } from "./vchanger-fixtures.ts";

const FILE = "/etc/vchanger/c.conf";
const read = (text: string, file = FILE): LoadedConfig =>
  readConfigText(text, file);
const BACULA_DEFAULTS = {
  bconsole: "/usr/sbin/bconsole",
  config: "/etc/bacula/bconsole.conf",
  drive: 0,
  timeout: 120,
};

function errorOf(text: string, file = FILE): string {
  try {
    read(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("vchanger 0.8 syntax", () => {
  test("the seed how-to's vchanger.conf is the same changer: name, state dir, log, drives, bay", () => {
    const { config, syntax, notes } = read(
      SEED_08,
      "/usr/local/etc/vchanger.conf",
    );
    expect(syntax).toBe("vchanger-0.8");
    const { luks, automap, tools, ...rest } = config;
    expect(rest).toEqual({
      name: "usbchanger1",
      work_dir: "/var/lib/bacula/usbchanger1",
      log_file: "/var/lib/bacula/usbchanger1.log",
      log_level: "info",
      user: "bacula",
      group: "tape",
      drives: 1,
      lock_timeout: 60,
      magazine: [{ path: "/mnt/usbchanger1/magazine", allow_unmounted: false }],
      bacula: BACULA_DEFAULTS,
      legacy: { vchanger: "0.8", slots_per_magazine: 10 },
      source: "/usr/local/etc/vchanger.conf",
    });
    expect(luks.mapper).toBe("bacula");
    expect(notes).toEqual([
      "line 11: `slots_per_magazine` is kept as legacy.slots_per_magazine",
    ]);
  });

  test("0.8.6 keys: work_dir, bays, automount_dir, LOG_ level names, UUID and quoted magazines", () => {
    const { config, notes } = read(FULL_086);
    expect(config.work_dir).toBe("/var/lib/bacula/c086");
    expect(config.log_file).toBe("/var/lib/bacula/c086/c086.log");
    expect(config.log_level).toBe("warn");
    expect(config.drives).toBe(2);
    expect(config.magazine).toEqual([
      { uuid: "0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a", allow_unmounted: false },
      { path: "/mnt/c086 bay2", allow_unmounted: false },
    ]);
    expect(config.legacy).toEqual({
      vchanger: "0.8",
      slots_per_magazine: 20,
      magazine_bays: 2,
      automount_dir: "/mnt/auto",
    });
    expect(notes).toEqual([
      "line 3: `magazine_bays` is kept as legacy.magazine_bays",
      "line 4: `slots_per_magazine` is kept as legacy.slots_per_magazine",
      "line 5: `automount_dir` is kept as legacy.automount_dir",
      'line 7: log level LOG_WARNING is log_level = "warn"',
      'line 8: relative logfile "c086.log" is in work_dir: /var/lib/bacula/c086/c086.log',
    ]);
  });

  test("defaults: state dir /var/lib/bacula/NAME, 10 slots per magazine, the log in the state dir", () => {
    const { config, notes } = read('changer_name = "c1"\nmagazine = /mnt/c1\n');
    expect(config.work_dir).toBe("/var/lib/bacula/c1");
    expect(config.log_file).toBe("/var/lib/bacula/c1/magchanger.log");
    expect(config.legacy).toEqual({ vchanger: "0.8", slots_per_magazine: 10 });
    expect(config.bacula.pool).toBeUndefined();
    expect(notes).toEqual([
      'work_dir = "/var/lib/bacula/c1": vchanger 0.8\'s default, where its drive links are',
      "vchanger 0.8 logged nowhere without `logfile`; magchanger logs to /var/lib/bacula/c1/magchanger.log",
    ]);
  });

  test("values are words joined by one space; # ends them, ; and = do not; keys ignore case", () => {
    const { config } = read(
      "CHANGER_name='c1'#comment\nLOGFILE = /var/log/a;b\nmagazine = /mnt/my    disk   # bay 1\nmagazine = /mnt/x=y\n",
    );
    expect(config.name).toBe("c1");
    expect(config.log_file).toBe("/var/log/a;b");
    expect(config.magazine.map((m) => m.path)).toEqual([
      "/mnt/my disk",
      "/mnt/x = y",
    ]);
  });
});

describe("vchanger 1.0 syntax", () => {
  test("every keyword maps: storage, user, group, work dir, log, level, bconsole, pool, magazines", () => {
    const { config, syntax, notes } = read(FULL_10);
    expect(syntax).toBe("vchanger-1.0");
    const { luks, automap, tools, ...rest } = config;
    expect(rest).toEqual({
      name: "vchanger1",
      work_dir: "/var/spool/vchanger/vchanger1",
      log_file: "/var/log/vchanger/vchanger1.log",
      log_level: "debug",
      user: "bacula",
      group: "disk",
      drives: 1,
      lock_timeout: 60,
      magazine: [
        {
          uuid: "4fcb1422-f15c-4d7a-8a32-a4dcc0af5e00",
          allow_unmounted: false,
        },
        { path: "/mnt/backup2", allow_unmounted: true },
      ],
      bacula: {
        ...BACULA_DEFAULTS,
        bconsole: "/opt/bacula/bin/bconsole",
        config: "/etc/bacula/bconsole-vchanger.conf",
        pool: "Offsite Pool",
      },
      legacy: { vchanger: "1.0" },
      source: FILE,
    });
    expect(notes).toEqual([
      'line 8: log level 7 is log_level = "debug"',
      "line 13: magazine /mnt/backup2 is a directory, used whether or not a disk is mounted there (allow_unmounted), as in vchanger 1.0; for a removable disk, Magazine = UUID:... (or [[magazine]] uuid) is safer",
      "vchanger 1.0 made drives on demand: set drives to the number of Device resources of the Autochanger (default 1)",
    ]);
  });

  test("defaults: named vchanger, /var/spool/vchanger/NAME, /var/log/vchanger/NAME.log, pool Scratch", () => {
    const { config } = read("Magazine = /mnt/m\n");
    expect([
      config.name,
      config.work_dir,
      config.log_file,
      config.bacula.pool,
    ]).toEqual([
      "vchanger",
      "/var/spool/vchanger/vchanger",
      "/var/log/vchanger/vchanger.log",
      "Scratch",
    ]);
    expect(config.legacy).toEqual({ vchanger: "1.0" });
  });

  test("keys ignore case and blanks; ; and # comment only where a token starts; inner blanks stay", () => {
    const { config } = read(
      [
        "STORAGERESOURCE = c1 ; the director's name",
        "work   dir=/w#1",
        'LogFile = "/var/log/x\\ty.log" # a tab',
        "magazine = /mnt/my  disk   ",
        "Magazine = \\",
        "   /mnt/continued",
      ].join("\n"),
    );
    expect(config.name).toBe("c1");
    expect(config.work_dir).toBe("/w#1");
    expect(config.log_file).toBe("/var/log/x\ty.log");
    expect(config.magazine.map((m) => m.path)).toEqual([
      "/mnt/my  disk",
      "/mnt/continued",
    ]);
  });

  test("`key =` without a value resets it to its default; a valueless Magazine clears the list", () => {
    const { config, notes } = read(
      "Storage Resource = c4\nWork Dir = /x\nWork Dir =\nMagazine = /a\nMagazine =\nMagazine = /b\n",
    );
    expect(config.work_dir).toBe("/var/spool/vchanger/c4");
    expect(config.magazine.map((m) => m.path)).toEqual(["/b"]);
    expect(notes.slice(0, 2)).toEqual([
      "line 3: `Work Dir =` has no value: its default applies, as in vchanger",
      "line 5: `Magazine =` has no value: its default applies, as in vchanger",
    ]);
  });

  test("a repeated key: the last one wins, as in vchanger, and a note says so", () => {
    const { config, notes } = read(
      "Storage Resource = a\nStorage Resource = b\nMagazine = /m\n",
    );
    expect(config.name).toBe("b");
    expect(notes[0]).toBe(
      "line 2: `Storage Resource` overrides line 1, as in vchanger",
    );
  });

  test('bconsole = "" disables Bacula interaction; a bare `bconsole` is /usr/sbin/bconsole', () => {
    const off = read(
      'Storage Resource = c\nbconsole = ""\nbconsole config = ""\nMagazine = /m\n',
    );
    expect(off.config.legacy).toEqual({
      vchanger: "1.0",
      bconsole_disabled: true,
    });
    expect(off.config.bacula).toEqual(BACULA_DEFAULTS);
    const bare = read(
      "Storage Resource = c\nbconsole = bconsole\nMagazine = /m\n",
    );
    expect(bare.config.bacula.bconsole).toBe("/usr/sbin/bconsole");
    expect(bare.notes[0]).toBe(
      "line 2: bconsole, found on PATH by vchanger, is /usr/sbin/bconsole here (bacula.bconsole)",
    );
  });

  test.each([
    ["0", "error"],
    ["3", "error"],
    ["4", "warn"],
    ["5", "info"],
    ["6", "info"],
    ["7", "debug"],
    ["LOG_DEBUG", "debug"],
  ])("Log Level %s is log_level %s", (level, ours) => {
    expect(read(`Log Level = ${level}\nMagazine = /m\n`).config.log_level).toBe(
      ours as "info",
    );
  });
});

describe("which syntax a file is read as", () => {
  test("a file ending in .toml is TOML even with vchanger keys", () => {
    const message = errorOf(SEED_08, "/etc/magchanger/c.toml");
    expect(message).toStartWith(
      "config /etc/magchanger/c.toml: name: name is required",
    );
    expect(message).toContain("top level: unknown key changer_name, state_dir");
  });

  test("a file with a name key is TOML whatever its name; errors say it was read as TOML", () => {
    expect(read('name = "t1"\n[[magazine]]\npath = "/m"\n').syntax).toBe(
      "toml",
    );
    expect(
      errorOf('name = "t1"\ndrives = = 1\n[[magazine]]\npath = "/m"\n'),
    ).toBe(
      "config /etc/vchanger/c.conf line 2: invalid value (read as TOML: it has `name =` or `[[magazine]]`)",
    );
  });

  test("the seed's file is valid TOML without a name: it is read as vchanger 0.8", () => {
    expect(read(SEED_08).syntax).toBe("vchanger-0.8");
  });

  test("underscore spellings of shared keys mean 0.8, so a missing changer_name is reported", () => {
    expect(errorOf("work_dir = /w\nmagazine = /m\n")).toBe(
      'config /etc/vchanger/c.conf: no `changer_name` line; add changer_name = "NAME" (the Bacula Storage name of this changer) (read as vchanger 0.8 syntax)',
    );
  });

  test("only keys both versions share: 1.0", () => {
    expect(read("magazine = /m\nuser = bacula\n").syntax).toBe("vchanger-1.0");
  });
});

describe("errors: one line naming the file, the line, the fix and the syntax assumed", () => {
  const cases: [string, string, string][] = [
    [
      "unknown key (0.8)",
      'changer_name = "c1"\n# comment\nfoo = 1\nmagazine = /m\n',
      "config /etc/vchanger/c.conf line 3: unknown key `foo`; vchanger 0.8 keys are changer_name, work_dir, state_dir, logfile, log_level, user, group, bconsole, bconsole_config, default_pool, magazine, virtual_drives, slots_per_magazine, magazine_bays, automount_dir (read as vchanger 0.8 syntax)",
    ],
    [
      "unknown key (1.0)",
      "Storage Resource = c1\nMagazine = /m\nMagazine Count = 2\n",
      "config /etc/vchanger/c.conf line 3: unknown key `Magazine Count`; vchanger 1.0 keys are Storage Resource, Work Dir, Logfile, Log Level, User, Group, bconsole, bconsole config, Default Pool, Magazine (read as vchanger 1.0 syntax)",
    ],
    [
      "not a number",
      "changer_name = c1\nvirtual_drives = two\nmagazine = /m\n",
      "config /etc/vchanger/c.conf line 2: `virtual_drives` must be a whole number 1..64, got `two` (read as vchanger 0.8 syntax)",
    ],
    [
      "slots out of range",
      "changer_name = c1\nslots_per_magazine = 0\nmagazine = /m\n",
      "config /etc/vchanger/c.conf line 2: `slots_per_magazine` must be a whole number 1..9999, got `0` (read as vchanger 0.8 syntax)",
    ],
    [
      "bad log level",
      "Storage Resource = c1\nLog Level = 9\nMagazine = /m\n",
      "config /etc/vchanger/c.conf line 2: `Log Level` must be 0..7 or LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (syslog levels), got `9` (read as vchanger 1.0 syntax)",
    ],
    [
      "missing changer name",
      "slots_per_magazine = 5\nmagazine = /m\n",
      'config /etc/vchanger/c.conf: no `changer_name` line; add changer_name = "NAME" (the Bacula Storage name of this changer) (read as vchanger 0.8 syntax)',
    ],
    [
      "empty changer name",
      'Storage Resource = ""\nMagazine = /m\n',
      "config /etc/vchanger/c.conf line 1: `Storage Resource` is empty; give it a value or remove the line (read as vchanger 1.0 syntax)",
    ],
    [
      "name Bacula cannot use as a barcode prefix",
      'Storage Resource = "c 1"\nMagazine = /m\n',
      "config /etc/vchanger/c.conf line 1: `Storage Resource = c 1`: name must be 1..63 letters, digits, '_', '.', '-' (it prefixes barcodes) (read as vchanger 1.0 syntax)",
    ],
    [
      "bad user name",
      "Storage Resource = c1\nUser = a b\nMagazine = /m\n",
      "config /etc/vchanger/c.conf line 2: `User = a b`: user must be a user name (read as vchanger 1.0 syntax)",
    ],
    [
      "bad UUID",
      "Storage Resource = c1\nMagazine = /m\nMagazine = UUID:not-a-uuid!\n",
      "config /etc/vchanger/c.conf line 3: `Magazine = UUID:not-a-uuid!`: uuid must be a filesystem UUID (hex digits and -) (read as vchanger 1.0 syntax)",
    ],
    [
      "relative magazine",
      "Storage Resource = c1\nMagazine = mnt/m\n",
      "config /etc/vchanger/c.conf line 2: `Magazine` must be an absolute path or UUID:filesystem-uuid, got `mnt/m` (read as vchanger 1.0 syntax)",
    ],
    [
      "relative work dir",
      "changer_name = c1\nstate_dir = bacula/c1\nmagazine = /m\n",
      "config /etc/vchanger/c.conf line 2: `state_dir` must be an absolute path, e.g. /var/spool/vchanger/c1 (read as vchanger 0.8 syntax)",
    ],
    [
      "no magazine",
      "Storage Resource = c1\n",
      "config /etc/vchanger/c.conf: no `Magazine` line; add Magazine = /mount/point (or Magazine = UUID:filesystem-uuid) (read as vchanger 1.0 syntax)",
    ],
    [
      "unclosed quote",
      'Storage Resource = c1\nMagazine = "/m\n',
      'config /etc/vchanger/c.conf line 2: the quoted value has no closing " (read as vchanger 1.0 syntax)',
    ],
    [
      "a section vchanger does not have",
      "[changer]\nStorage Resource = c1\nMagazine = /m\n",
      "config /etc/vchanger/c.conf line 1: vchanger has no section [changer]; remove the line (only [global] is allowed) (read as vchanger 1.0 syntax)",
    ],
    [
      "backslash inside a line",
      "Storage Resource = c1\nMagazine = /m \\ x\n",
      "config /etc/vchanger/c.conf line 2: `\\` continues a line only at its end (read as vchanger 1.0 syntax)",
    ],
    [
      "a keyword without = (1.0)",
      "Storage Resource c1\nMagazine = /m\n",
      "config /etc/vchanger/c.conf line 1: `Storage Resource c1` must be followed by `= value` (read as vchanger 1.0 syntax)",
    ],
    [
      "a line without = (0.8)",
      "changer_name = c1\nmagazine /m\n",
      "config /etc/vchanger/c.conf line 2: expected `keyword = value`, got `magazine /m` (read as vchanger 0.8 syntax)",
    ],
    [
      "0.8 and 1.0 keys mixed",
      "changer_name = c1\nStorage Resource = c1\nmagazine = /m\n",
      "config /etc/vchanger/c.conf line 2: `Storage Resource` is vchanger 1.0 syntax but line 1 (`changer_name`) is 0.8 syntax; use one of them",
    ],
  ];
  test.each(cases)("%s", (_what, text, expected) => {
    const message = errorOf(text);
    expect(message).toBe(expected);
    expect(message).not.toContain("\n");
  });
});
