// setup --write edits the daemons' configs (an @include line) as root: a link the run-as user
// planted in a directory it may write (its /etc/bacula) must not steer that edit to another
// file (found by review: root appended to a root-only file outside /etc/bacula).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const SKIP = skipUnless(
  ["root", "tool:useradd", "tool:setpriv"],
  "setup include trust",
);

describe.skipIf(SKIP)("setup --write and a planted daemon config link", () => {
  let dir = "";
  let attacker: Attacker | undefined;
  beforeAll(() => {
    dir = makeTempDir("setup-include");
    attacker = createAttacker();
  });
  afterAll(() => {
    attacker?.remove();
    if (dir) removeTempDir(dir);
  });

  test("a bacula-sd.conf link in a directory the run-as user owns is refused; its target is untouched", async () => {
    const prefix = join(dir, "root");
    const conf = join(prefix, "etc/magchanger/c1.toml");
    mkdirSync(join(prefix, "etc/magchanger"), { recursive: true });
    mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
    chownSync(join(prefix, "etc/bacula"), attacker!.uid, attacker!.gid);
    const victim = join(dir, "victim");
    writeFileSync(victim, "root ALL=(ALL) ALL\n", { mode: 0o440 });
    attacker!.run([
      "ln",
      "-s",
      victim,
      join(prefix, "etc/bacula/bacula-sd.conf"),
    ]);
    writeFileSync(
      conf,
      'name = "c1"\ndrives = 2\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "/mnt/c1/magazine"\n',
    );
    const result = await runBinary([
      "setup",
      "-c",
      conf,
      "--prefix",
      prefix,
      "--write",
    ]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(
      /^magchanger: refusing to edit [^\n]*bacula-sd\.conf[^\n]*\n$/,
    );
    expect(readFileSync(victim, "utf8")).toBe("root ALL=(ALL) ALL\n");
  });
});
