// The bash completion (commands/manual/completion.ts), sourced into a real bash and called the
// way readline calls it: COMP_WORDS and COMP_CWORD set, _magchanger run, COMPREPLY read back.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bashCompletion } from "../../src/commands/manual/completion.ts";
import { COMMANDS } from "../../src/main.ts";
import { missing, recordSkip, toolPath } from "../helpers/capabilities.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("completion");
afterAll(() => removeTempDir(dir));
const script = join(dir, "magchanger");
writeFileSync(script, await bashCompletion(COMMANDS));
const configs = join(dir, "etc");
mkdirSync(configs);
for (const f of ["usbchanger1.toml", "old.conf", "notes.txt"])
  writeFileSync(join(configs, f), "");
mkdirSync(join(dir, "staging"));

/** COMPREPLY, one entry a line, after completing the last of words. */
function complete(...words: string[]): string[] {
  const quoted = words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ");
  const result = Bun.spawnSync(
    [
      toolPath("bash") as string,
      "--norc",
      "--noprofile",
      "-c",
      `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _magchanger; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    {
      env: { PATH: "/usr/bin:/bin", MAGCHANGER_CONFIG_DIR: configs },
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  if (result.exitCode !== 0 || result.stderr.length)
    throw new Error(`bash: ${result.stderr.toString()}`);
  return result.stdout.toString().split("\n").filter(Boolean);
}

const why = missing("tool:bash");
if (why) recordSkip("bash completion", why);

describe.skipIf(why !== undefined)("bash completion", () => {
  test("the first word: every command of COMMANDS, and --help, --version", () => {
    expect(complete("magchanger", "")).toEqual([
      ...Object.keys(COMMANDS),
      "-h",
      "--help",
      "-V",
      "--version",
    ]);
    expect(complete("magchanger", "ch")).toEqual(["changer", "check"]);
  });

  test("a group's subcommands, then the subcommand's own options", () => {
    expect(complete("magchanger", "magazine", "")).toEqual([
      "init",
      "createvols",
      "list",
      "rename",
      "-h",
      "--help",
    ]);
    expect(complete("magchanger", "magazine", "init", "--")).toEqual([
      "--config",
      "--volumes",
      "--force",
      "--label",
      "--name",
      "--help",
    ]);
  });

  test("a command's options, short and long", () => {
    expect(complete("magchanger", "eject", "-")).toEqual([
      "-c",
      "--config",
      "--wait",
      "-h",
      "--help",
    ]);
    expect(complete("magchanger", "check", "--free")).toEqual([
      "--free-warning",
      "--free-critical",
    ]);
  });

  test("-c and --config: the config files in the config directory; a path typed: any file", () => {
    const toml = join(configs, "usbchanger1.toml");
    const conf = join(configs, "old.conf");
    expect(complete("magchanger", "status", "-c", "")).toEqual([toml, conf]);
    expect(
      complete("magchanger", "status", "--config", join(configs, "u")),
    ).toEqual([toml]);
    expect(complete("magchanger", "changer", "")).toEqual([toml, conf]);
    expect(complete("magchanger", "refresh", "-c", "./st")).toEqual([
      "./staging",
    ]);
  });

  test("after changer CONFIG: the protocol's commands", () => {
    expect(
      complete("magchanger", "changer", "/etc/magchanger/x.toml", "lo"),
    ).toEqual(["loaded", "load"]);
  });

  test("an option's value: directories for DIR, files for FILE, nothing for a number", () => {
    expect(
      complete("magchanger", "setup", "-c", "x.toml", "--prefix", "st"),
    ).toEqual(["staging"]);
    expect(
      complete("magchanger", "status", "-c", "x", "--prometheus", "et"),
    ).toEqual(["etc"]);
    expect(complete("magchanger", "eject", "--wait", "")).toEqual([]);
    expect(complete("magchanger", "check", "-t", "")).toEqual([]);
  });
});
