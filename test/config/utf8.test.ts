// A config is UTF-8 text: a byte that is not (a Latin-1 `é` in a path, a file saved by an old
// editor) is refused with one line naming the file, the line and the byte, never read as U+FFFD
// (which would silently make `/srv/w\xe9rk` another path, `/srv/w\uFFFDrk`).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfigFile } from "../../src/config/load.ts";
import { readConfigSource } from "../../src/config/read.ts";
import { ConfigError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "magchanger-utf8-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const latin1 = (text: string) => Buffer.from(text, "latin1");

function refusal(path: string): string {
  try {
    readConfigSource(path, false);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return "accepted";
}

describe("config text that is not UTF-8", () => {
  test("a Latin-1 byte in a TOML path is refused with the file, line and column", () => {
    const path = file(
      "c.toml",
      latin1(
        'name = "c"\nwork_dir = "/srv/w\u00e9rk"\n[[magazine]]\npath = "/m"\n',
      ),
    );
    expect(refusal(path)).toBe(
      `config ${path} line 2: byte 0xe9 at column 19 is not UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
    );
    expect(() => readConfigFile(path)).toThrow(ConfigError);
  });

  test("a vchanger.conf is checked the same way", () => {
    const path = file(
      "vchanger.conf",
      latin1(
        "[global]\nStorage Resource = v\nWork Dir = /srv/v\u00e9\nMagazine = /m\n",
      ),
    );
    expect(refusal(path)).toBe(
      `config ${path} line 3: byte 0xe9 at column 18 is not UTF-8; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
    );
  });

  test("a truncated multi-byte character and an overlong encoding are refused too", () => {
    const cut = file(
      "cut.toml",
      Buffer.concat([Buffer.from('name = "c"\n# caf'), Buffer.from([0xc3])]),
    );
    expect(refusal(cut)).toStartWith(
      `config ${cut} line 2: byte 0xc3 at column 6 `,
    );
    const overlong = file(
      "overlong.toml",
      Buffer.concat([
        Buffer.from("# "),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from("\n"),
      ]),
    );
    expect(refusal(overlong)).toStartWith(
      `config ${overlong} line 1: byte 0xc0 at column 3 `,
    );
  });

  test("UTF-8 text, U+FFFD itself included, is read as it is", () => {
    const text =
      'name = "c"\n# caf\u00e9 \ufffd \u{1f4be}\n[[magazine]]\npath = "/m\u00e9"\n';
    expect(readConfigSource(file("ok.toml", Buffer.from(text)), false)).toBe(
      text,
    );
  });
});
