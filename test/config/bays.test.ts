// Several autofs bays: every [[magazine]] path directly below the autofs mount dir (the dir of the
// bay named by automap.key) is a bay of its own, answering its last path component, with the
// mapping name its disk is opened under: luks.mapper for the first, its own mapper for the rest.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { autofsBays, luksMappers } from "../../src/config/layout.ts";
import { parseConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";

const FILE = "/etc/magchanger/usb1.toml";
const HEAD = 'name = "usb1"\n[[magazine]]\npath = "/mnt/usb1/magazine"\n';

function parse(text: string) {
  return parseConfigText(text, FILE);
}

function problem(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("expected a config error");
}

describe("autofs bays", () => {
  test("one bay, as before: automap.key's, opened as luks.mapper", () => {
    const config = parse(HEAD);
    expect(config.magazine).toEqual([
      { path: "/mnt/usb1/magazine", allow_unmounted: false },
    ]);
    expect(autofsBays(config)).toEqual([
      {
        bay: 1,
        mountDir: "/mnt/usb1",
        key: "magazine",
        path: "/mnt/usb1/magazine",
        mapper: "bacula",
      },
    ]);
    expect(luksMappers(config)).toEqual([
      {
        name: "bacula",
        bay: {
          bay: 1,
          mountDir: "/mnt/usb1",
          key: "magazine",
          path: "/mnt/usb1/magazine",
          mapper: "bacula",
        },
      },
    ]);
  });

  test("a second path bay below the same dir with its own mapper is a second autofs bay", () => {
    const config = parse(
      `${HEAD}[[magazine]]\nuuid = "0b7f3c9e-2a4d"\n[[magazine]]\npath = "/mnt/usb1/magazine2"\nmapper = "bacula2"\n[[magazine]]\npath = "/srv/plain"\nallow_unmounted = true\n`,
    );
    expect(autofsBays(config)).toEqual([
      {
        bay: 1,
        mountDir: "/mnt/usb1",
        key: "magazine",
        path: "/mnt/usb1/magazine",
        mapper: "bacula",
      },
      {
        bay: 3,
        mountDir: "/mnt/usb1",
        key: "magazine2",
        path: "/mnt/usb1/magazine2",
        mapper: "bacula2",
      },
    ]);
    expect(luksMappers(config).map((m) => m.name)).toEqual([
      "bacula",
      "bacula2",
    ]);
  });

  test("no bay autofs mounts: the one mapping name is luks.mapper", () => {
    const config = parse(
      'name = "usb1"\n[[magazine]]\npath = "/srv/a"\nallow_unmounted = true\n',
    );
    expect(autofsBays(config)).toEqual([]);
    expect(luksMappers(config)).toEqual([{ name: "bacula" }]);
  });
});

test("conf/magchanger.toml's commented second bay, uncommented, is a second autofs bay", () => {
  const text = readFileSync(
    join(import.meta.dir, "../../conf/magchanger.toml"),
    "utf8",
  ).replace(
    /^# (\[\[magazine\]\]\n)# (path = "\/mnt\/usbchanger1\/magazine2"\n)# (mapper = "bacula2".*\n)/m,
    "$1$2$3",
  );
  expect(autofsBays(parse(text)).map((b) => [b.bay, b.key, b.mapper])).toEqual([
    [1, "magazine", "bacula"],
    [2, "magazine2", "bacula2"],
  ]);
});

describe("config errors for bays name the key and the fix", () => {
  test.each([
    [
      "a second bay below the autofs dir without mapper",
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/magazine2"\n`,
      `config ${FILE}: magazine[2]: /mnt/usb1/magazine2 is a second bay below the autofs dir /mnt/usb1 (where automap.key's bay /mnt/usb1/magazine is), so its disk needs a mapping name of its own: add mapper = "bacula2" (a device-mapper name no other bay of this changer uses), or move the bay out of /mnt/usb1`,
    ],
    [
      "mapper equal to luks.mapper",
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/magazine2"\nmapper = "bacula"\n`,
      `config ${FILE}: magazine[2].mapper: "bacula" is luks.mapper, the name of bay 1's disk; give this bay a name of its own, e.g. mapper = "bacula2"`,
    ],
    [
      "two bays with one mapper",
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/b"\nmapper = "vault"\n[[magazine]]\npath = "/mnt/usb1/c"\nmapper = "vault"\n`,
      `config ${FILE}: magazine[3].mapper: "vault" is the mapper of magazine[2] already; give each bay a name of its own`,
    ],
    [
      "mapper on a uuid magazine",
      `${HEAD}[[magazine]]\nuuid = "0b7f3c9e-2a4d"\nmapper = "x"\n`,
      `config ${FILE}: magazine[2].mapper: only a path bay below the autofs dir has a mapper (a uuid or label magazine is found by its filesystem); remove it`,
    ],
    [
      "mapper on automap.key's bay",
      'name = "usb1"\n[[magazine]]\npath = "/mnt/usb1/magazine"\nmapper = "x"\n',
      `config ${FILE}: magazine[1].mapper: this is automap.key's bay, whose disk is opened as luks.mapper ("bacula"); remove mapper here (or set [luks] mapper)`,
    ],
    [
      "mapper on a bay in another dir",
      `${HEAD}[[magazine]]\npath = "/mnt/other/magazine2"\nmapper = "x"\n`,
      `config ${FILE}: magazine[2].mapper: /mnt/other/magazine2 is not directly below the autofs dir /mnt/usb1 (where automap.key's bay /mnt/usb1/magazine is), so autofs never mounts it; move the bay to /mnt/usb1/magazine2 or remove mapper`,
    ],
    [
      "mapper without an automap.key bay",
      'name = "usb1"\n[[magazine]]\npath = "/mnt/usb1/a"\nmapper = "x"\n',
      `config ${FILE}: magazine[1].mapper: no [[magazine]] path ends in /magazine (automap.key), so autofs mounts no bay of this changer; remove mapper, or add that bay first`,
    ],
    [
      "mapper with automap.luks = false",
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/magazine2"\nmapper = "x"\n[automap]\nluks = false\n`,
      `config ${FILE}: magazine[2].mapper: a bay's mapper names the LUKS mapping autofs mounts, but automap.luks = false; remove mapper (or set automap.luks = true)`,
    ],
    [
      "a bay key autofs cannot take",
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/bay two"\nmapper = "x"\n`,
      `config ${FILE}: magazine[2].path: "bay two", the last component of a bay below the autofs dir, is its autofs key: use 1..64 letters, digits, "_", ".", "-"`,
    ],
    [
      "a bad mapper name",
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/magazine2"\nmapper = "-rf"\n`,
      `config ${FILE}: magazine[2].mapper: mapper must be a device-mapper name: 1..64 of [A-Za-z0-9_.+-], starting with a letter or digit`,
    ],
    [
      "a mapper that is not a string",
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/magazine2"\nmapper = 2\n`,
      `config ${FILE}: magazine[2].mapper: must be a device-mapper name in quotes; got 2`,
    ],
  ])("%s", (_what, text, message) => {
    expect(problem(text)).toBe(message);
  });

  test("an unknown key in a [[magazine]] lists mapper among the allowed ones", () => {
    expect(problem(`${HEAD}mapperr = "x"\n`)).toBe(
      `config ${FILE}: magazine[1]: unknown key mapperr; allowed: path, uuid, label, allow_unmounted, mapper`,
    );
  });

  // The drop-in contract: a vchanger.conf (or its import) keeps working as it did.
  test("a vchanger config's second path bay below that dir needs no mapper", () => {
    const config = parse(
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/magazine2"\n[legacy]\nvchanger = "0.8"\n`,
    );
    expect(autofsBays(config).map((b) => b.path)).toEqual([
      "/mnt/usb1/magazine",
    ]);
  });

  test("a second path bay below the autofs dir is fine without mapper when automap.luks = false", () => {
    const config = parse(
      `${HEAD}[[magazine]]\npath = "/mnt/usb1/magazine2"\n[automap]\nluks = false\n`,
    );
    expect(autofsBays(config).map((b) => b.path)).toEqual([
      "/mnt/usb1/magazine",
    ]);
  });
});
