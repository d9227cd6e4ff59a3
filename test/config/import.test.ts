// `config import`: the TOML printed for a vchanger.conf is commented with its origins and reads
// back as exactly the Config the vchanger file gives.
import { describe, expect, test } from "bun:test";
import { importConfigText } from "../../src/config/import.ts";
import { parseConfigText, readConfigText } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { UsageError } from "../../src/errors.ts";
import {
  FULL_10,
  FULL_086,
  SEED_08,
  SEED_08_TOML,
} from "./vchanger-fixtures.ts";

const withoutSource = ({ source, ...rest }: Config) => rest;

describe("config import", () => {
  test("the seed's vchanger.conf becomes this commented TOML", () => {
    const result = importConfigText(SEED_08, "/usr/local/etc/vchanger.conf");
    expect(result.toml).toBe(SEED_08_TOML);
    expect(result.notes).toEqual([
      "line 11: `slots_per_magazine` is kept as legacy.slots_per_magazine",
    ]);
  });

  test("1.0 without drives: a commented drives line says to count the Devices", () => {
    const { toml } = importConfigText(FULL_10, "/etc/vchanger/v1.conf");
    expect(toml).toContain(
      "# drives = 1                                   # vchanger 1.0 made drives on demand: one per Device of the Autochanger\n",
    );
    expect(toml).toContain(
      'pool = "Offsite Pool"                          # Default Pool, line 11\n',
    );
    expect(toml).toContain(
      'log_level = "debug"                            # LOG LEVEL = 7, line 8\n',
    );
  });

  const fixtures: [string, string][] = [
    ["the seed (0.8)", SEED_08],
    ["0.8.6 with every key", FULL_086],
    ["1.0 with every key", FULL_10],
    ["1.0 defaults only", "Magazine = /mnt/m\n"],
    [
      "1.0 with bconsole disabled",
      'Storage Resource = c\nbconsole = ""\nMagazine = UUID:0b7f3c9e\n',
    ],
    ["0.8 defaults only", 'changer_name = "c1"\nmagazine = /mnt/c1\n'],
  ];
  test.each(fixtures)(
    "%s: the TOML reads back as the same Config",
    (_what, text) => {
      const file = "/etc/vchanger/c.conf";
      const { toml, config } = importConfigText(text, file);
      const back = parseConfigText(toml, "/etc/magchanger/c.toml");
      expect(withoutSource(back)).toEqual(withoutSource(config));
      expect(withoutSource(config)).toEqual(
        withoutSource(readConfigText(text, file).config),
      );
    },
  );

  test("a magchanger TOML file is refused: there is nothing to import", () => {
    expect(() =>
      importConfigText(
        'name = "t"\n[[magazine]]\npath = "/m"\n',
        "/etc/magchanger/t.toml",
      ),
    ).toThrow(
      new UsageError(
        "/etc/magchanger/t.toml is already a magchanger TOML config; there is nothing to import",
      ),
    );
  });
});
