// Every entry of COMMANDS, run as the binary: --help prints the help made from the command's
// declaration (usage, each option, the exit-status table) on stdout, or on stderr where stdout is
// another program's (changer: Bacula's, automap: autofs's), wrapped at 80 columns; an unknown
// option is one line naming it and the command, exit 2 (a monitoring plugin answers it on stdout,
// exit 3). Keyed by COMMANDS so none goes untested.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AnyCommand, isGroup } from "../../src/commands/cli.ts";
import { renderHelp } from "../../src/commands/cli-help.ts";
import { COMMANDS } from "../../src/main.ts";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const PROTOCOL = new Set(["changer", "automap"]);
/** Monitoring plugins answer every failure on stdout with exit 3 (UNKNOWN), a wrong option too. */
const PLUGIN = new Set(["check"]);
const dir = makeTempDir("commands");
afterAll(() => removeTempDir(dir));

async function declaration(name: string): Promise<AnyCommand> {
  return (await (COMMANDS[name] as () => Promise<{ command: AnyCommand }>)())
    .command;
}

/** Lines of help that are no example from the declaration: those are wrapped. */
function proseLines(def: AnyCommand, help: string): string[] {
  const examples = (def.description ?? [])
    .filter((p) => p.startsWith("  "))
    .flatMap((p) => p.split("\n"));
  return help.split("\n").filter((l) => !examples.includes(l));
}

describe("every command of COMMANDS", () => {
  for (const name of Object.keys(COMMANDS)) {
    test(`${name} --help: the declared help, on ${PROTOCOL.has(name) ? "stderr" : "stdout"}, exit 0`, async () => {
      const def = await declaration(name);
      const result = await runBinary([name, "--help"]);
      const help = renderHelp(def);
      expect(result).toMatchObject(
        PROTOCOL.has(name)
          ? { exitCode: 0, stdout: "", stderr: help }
          : { exitCode: 0, stdout: help, stderr: "" },
      );
      expect(help).toStartWith(`Usage: magchanger ${name}`);
      expect(help).toContain("\nExit status:\n  0  ");
      const subs = isGroup(def) ? Object.values(def.subcommands) : [def];
      for (const sub of subs)
        for (const option of Object.keys(sub.options))
          expect(help).toContain(`--${option}`);
      for (const line of proseLines(def, help)) {
        expect({ line, long: line.length > 80 }).toEqual({ line, long: false });
        expect({ line, padded: /\s$/.test(line) }).toEqual({
          line,
          padded: false,
        });
      }
    });

    test(`${name} with an unknown option: one line naming it, exit 2`, async () => {
      const def = await declaration(name);
      const result = await runBinary([name, "--frobnicate"]);
      if (PLUGIN.has(name)) {
        expect(result).toMatchObject({
          exitCode: 3,
          stdout: `MAGCHANGER UNKNOWN - ${name}: unknown option "--frobnicate"; run \`magchanger ${name} --help\`\n`,
          stderr: "",
        });
        return;
      }
      expect(result).toEqual({
        ...result,
        exitCode: 2,
        stdout: "",
        stderr: isGroup(def)
          ? `magchanger: ${name}: unknown subcommand "--frobnicate"; use ${Object.keys(
              def.subcommands,
            )
              .join(", ")
              .replace(
                /, (\w+)$/,
                " or $1",
              )} (run \`magchanger ${name} --help\`)\n`
          : `magchanger: ${name}: unknown option "--frobnicate"; run \`magchanger ${name} --help\`\n`,
      });
      if (!isGroup(def)) return;
      for (const sub of Object.keys(def.subcommands)) {
        expect(await runBinary([name, sub, "--frobnicate"])).toMatchObject({
          exitCode: 2,
          stdout: "",
          stderr: `magchanger: ${name} ${sub}: unknown option "--frobnicate"; run \`magchanger ${name} ${sub} --help\`\n`,
        });
      }
    });
  }
});

test("magazine --help lists every subcommand's options, --label among them", async () => {
  const result = await runBinary(["magazine", "--help"]);
  expect(result.stdout).toContain(
    "      --label        then tell Bacula: update slots and label barcodes of the\n                     new volumes into [bacula] pool\n",
  );
  expect(result.stdout).toContain(
    "magchanger magazine createvols -c CONF BAY COUNT\n",
  );
});

test("refresh --help: exact text", async () => {
  expect((await runBinary(["refresh", "--help"])).stdout).toBe(
    `Usage: magchanger refresh -c CONF [OPTIONS]

Tell Bacula what changed in the changer: update slots, and label barcodes for
new blank volumes when [bacula] pool is set.

Options:
  -c, --config CONF  the changer's config file (required)
      --force        run bconsole even when nothing changed
      --if-pending   only repeat a Bacula update that did not finish (the
                     timer's retry): without one, exit at once without scanning
                     the bays (which would mount an autofs disk) or taking the
                     changer lock
  -h, --help         print this help

Exit status:
  0  Bacula is up to date (with --if-pending: or no update is pending)
  1  failed (one line on stderr says what and what to do)
  2  usage: a wrong command line
  3  config: the config file is missing, unreadable or invalid
  4  changer busy: the lock wait went over lock_timeout
  5  a state file could not be written (the previous state is intact)
  7  cannot switch to the run-as user or group
  8  bconsole is missing, failed or timed out (the next refresh retries the
     update)
`,
  );
});

test("an unknown command is named, exit 2; magchanger --help lists every command", async () => {
  expect(await runBinary(["frobnicate"])).toMatchObject({
    exitCode: 2,
    stdout: "",
    stderr:
      'magchanger: unknown command "frobnicate"; run `magchanger --help`\n',
  });
  const help = await runBinary(["--help"]);
  expect(help.exitCode).toBe(0);
  for (const name of Object.keys(COMMANDS))
    expect(help.stdout).toMatch(new RegExp(`\\n  ${name} +\\S`));
  // Every code of errors.ts, 10 (eject: busy, try later) the widest.
  expect(help.stdout).toContain("\nExit status:\n  0   ok\n");
  expect(help.stdout).toContain("\n  10  busy, try later: the disk is in use");
  expect(help.stdout).toContain(
    "\n  9   a state file is unreadable (EACCES, EIO)\n",
  );
});

test("a missing value, a repeated option and an extra argument are named, exit 2", async () => {
  const cases: [string[], string][] = [
    [["refresh", "-c"], "refresh: -c needs a value (CONF)"],
    [["refresh", "-c", "a", "-c", "b"], "refresh: -c given twice"],
    [["refresh", "-c", "a", "extra"], 'refresh: unexpected argument "extra"'],
    [["refresh"], "refresh: missing -c CONF"],
    [["refresh", "-c", "a", "--force=yes"], "refresh: --force takes no value"],
    [
      ["magazine", "createvols", "-c", "a", "1"],
      "magazine createvols: missing COUNT",
    ],
  ];
  for (const [argv, message] of cases) {
    const command = message.split(":")[0];
    expect(await runBinary(argv)).toMatchObject({
      exitCode: 2,
      stdout: "",
      stderr: `magchanger: ${message}; run \`magchanger ${command} --help\`\n`,
    });
  }
});

test("an unterminated TOML string is reported as such, with file and line, exit 3", async () => {
  const conf = join(dir, "cut.toml");
  writeFileSync(conf, 'name = "c1\nwork_dir = "/tmp/x"\n');
  expect(await runBinary(["changer", conf, "slots"])).toMatchObject({
    exitCode: 3,
    stdout: "",
    stderr: `magchanger: config ${conf} line 1: unterminated string: a quote opened on this line is not closed; add the closing quote\n`,
  });
});

test("doctor on a missing config says how to create it", async () => {
  const missing = join(dir, "nope.toml");
  const result = await runBinary(["doctor", "-c", missing]);
  expect(result).toMatchObject({
    exitCode: 1,
    stdout: `FAIL  config: cannot read config ${missing}: ENOENT (no such file or directory); pass the changer's .toml file (see conf/magchanger.toml)
      fix: create ${missing} from the example conf/magchanger.toml (cp conf/magchanger.toml ${missing}, then set name, work_dir and [[magazine]] path), or pass the existing config with -c FILE
1 failed, 0 warning(s), 0 ok.
`,
    stderr: "magchanger: doctor: 1 failed, 0 warning(s), 0 ok.\n",
  });
});
