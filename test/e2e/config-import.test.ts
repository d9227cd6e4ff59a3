// `magchanger config import` and vchanger.conf files as Changer Device, run through the compiled
// binary with exact output.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { SEED_08, SEED_08_TOML } from "../config/vchanger-fixtures.ts";

const dir = makeTempDir("config-import");
afterAll(() => removeTempDir(dir));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("magchanger config import", () => {
  test("prints the seed's vchanger.conf as commented TOML, the notes on stderr, exit 0", async () => {
    const file = write("vchanger.conf", SEED_08);
    const result = await runBinary(["config", "import", file]);
    expect(result).toMatchObject({
      exitCode: 0,
      stdout: SEED_08_TOML.replace("/usr/local/etc/vchanger.conf", file),
      stderr:
        "magchanger: note: line 11: `slots_per_magazine` is kept as legacy.slots_per_magazine\n",
    });
    expect(readFileSync(file, "utf8")).toBe(SEED_08);
  });

  test("a value with C1 or bidi controls is printed as TOML \\u escapes: nothing raw, and it reads back the same", async () => {
    const logfile = "/var/log/v\u009b[2J\u202e\u007f.log";
    const file = write(
      "controls.conf",
      SEED_08.replace(
        'logfile = "/var/lib/bacula/usbchanger1.log"',
        `logfile = "${logfile}"`,
      ),
    );
    const result = await runBinary(["config", "import", file]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(
      'log_file = "/var/log/v\\u009b[2J\\u202e\\u007f.log"',
    );
    expect(result.stdout).not.toMatch(/[\u007f-\u009f\u202e]/);
    const back = write("controls.toml", result.stdout);
    const { parse } = await import("smol-toml");
    expect(parse(readFileSync(back, "utf8")).log_file).toBe(logfile);
  });

  test("an unknown key: exit 3, one line naming the file, the line and the keys, nothing on stdout", async () => {
    const file = write("bad.conf", `${SEED_08}colour = red\n`);
    const result = await runBinary(["config", "import", file]);
    expect(result).toMatchObject({
      exitCode: 3,
      stdout: "",
      stderr: `magchanger: config ${file} line 19: unknown key \`colour\`; vchanger 0.8 keys are changer_name, work_dir, state_dir, logfile, log_level, user, group, bconsole, bconsole_config, default_pool, magazine, virtual_drives, slots_per_magazine, magazine_bays, automount_dir (read as vchanger 0.8 syntax)\n`,
    });
  });

  test("a TOML config or no FILE is a usage error: exit 2", async () => {
    const toml = write("t.toml", 'name = "t"\n[[magazine]]\npath = "/m"\n');
    expect(await runBinary(["config", "import", toml])).toMatchObject({
      exitCode: 2,
      stdout: "",
      stderr: `magchanger: ${toml} is already a magchanger TOML config; there is nothing to import\n`,
    });
    expect(await runBinary(["config", "import"])).toMatchObject({
      exitCode: 2,
      stdout: "",
      stderr:
        "magchanger: config import: missing FILE; run `magchanger config import --help`\n",
    });
  });

  test("--help documents the command and its exit status", async () => {
    const result = await runBinary(["config", "import", "--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toStartWith("Usage: magchanger config import FILE\n");
    expect(result.stdout).toContain(
      "Exit status:\n  0  the TOML was printed\n",
    );
  });
});

describe("a vchanger.conf as Changer Device", () => {
  test("the changer reads it as it is: slots and list answer, state goes to its Work Dir", async () => {
    mkdirSync(join(dir, "bay"));
    const file = write(
      "vc1.conf",
      `Storage Resource = vc1\nUser = root\nGroup = root\nWork Dir = ${dir}/work\nMagazine = ${dir}/bay\n`,
    );
    expect(await runBinary(["changer", file, "slots"])).toMatchObject({
      exitCode: 0,
      stdout: "0\n",
      stderr: "",
    });
    expect(
      await runBinary(["changer", file, "loaded", "0", "x", "0"]),
    ).toMatchObject({
      exitCode: 0,
      stdout: "0\n",
      stderr: "",
    });
    expect(lstatSync(join(dir, "work", "drive0")).isSymbolicLink()).toBe(true);
  });
});

describe("config import of something that is not a file", () => {
  test("a FIFO or a Latin-1 vchanger.conf fails at once with exit 3 and one line", async () => {
    const fifo = join(dir, "fifo.conf");
    Bun.spawnSync(["mkfifo", fifo]);
    const fromFifo = await runBinary(["config", "import", fifo], {
      timeoutMs: 10_000,
    });
    expect(fromFifo.exitCode).toBe(3);
    expect(fromFifo.stderr).toMatch(
      /^magchanger: [^\n]*not a regular file[^\n]*\n$/,
    );
    const latin1 = join(dir, "latin1.conf");
    writeFileSync(
      latin1,
      Buffer.from('changer_name = "x"\nstate_dir = "/w\xe9rk"\n', "latin1"),
    );
    const fromLatin1 = await runBinary(["config", "import", latin1]);
    expect(fromLatin1.exitCode).toBe(3);
    expect(fromLatin1.stderr).toMatch(/is not UTF-8/);
  });
});
