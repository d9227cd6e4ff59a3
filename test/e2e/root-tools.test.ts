// Tools root spawns (issue: root paths never follow, item 10, first half): getent by absolute
// path, never through PATH; tools spawned after the privilege drop get a clean environment, the
// run-as user's HOME (or /) and cwd /, not root's HOME, the caller's variables or its cwd.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import { BASE_ENV, runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const SKIP = skipUnless(
  ["root", "tool:useradd", "tool:setpriv"],
  "root-tools e2e",
)
  ? "skip"
  : undefined;

let dir = "";
let evil: Attacker | undefined;
beforeAll(() => {
  if (SKIP) return;
  dir = makeTempDir("root-tools");
  evil = createAttacker();
});
afterAll(() => {
  evil?.remove();
  if (dir) removeTempDir(dir);
});

describe.skipIf(SKIP !== undefined)("item 10: tools root spawns", () => {
  test("getent is run by absolute path: a getent earlier in root's PATH is never run", async () => {
    const pathDir = join(dir, "path");
    mkdirSync(pathDir);
    const marker = join(dir, "getent-ran");
    writeFileSync(
      join(pathDir, "getent"),
      `#!/bin/sh\ntouch '${marker}'\nexit 2\n`,
    );
    chmodSync(join(pathDir, "getent"), 0o755);
    mkdirSync(join(dir, "bay1"));
    const conf = join(dir, "getent.toml");
    writeFileSync(
      conf,
      `name = "g"\nwork_dir = "${join(dir, "work1")}"\nlog_file = "${join(dir, "g.log")}"\nuser = "nosuchuser${process.pid}"\ngroup = "root"\n[[magazine]]\npath = "${join(dir, "bay1")}"\nallow_unmounted = true\n`,
    );
    const result = await runBinary(["magazine", "list", "-c", conf], {
      env: { ...BASE_ENV, PATH: `${pathDir}:${BASE_ENV.PATH}` },
      timeoutMs: 20_000,
    });
    expect(existsSync(marker)).toBe(false);
    expect(result.exitCode).toBe(7);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(`nosuchuser${process.pid}`);
  });

  test("bconsole after the drop gets a fixed PATH, LANG=C, the run-as user's HOME or /, cwd /, nothing of root's", async () => {
    const user = evil as Attacker;
    const out = join(dir, "out");
    mkdirSync(out);
    chmodSync(out, 0o777);
    const bconsole = join(dir, "bconsole");
    writeFileSync(
      bconsole,
      `#!/bin/sh\ncat >/dev/null\n{ echo "cwd=$(pwd)"; env; } > '${out}/env'\n`,
    );
    chmodSync(bconsole, 0o755);
    mkdirSync(join(dir, "bay2"));
    const cwd = join(dir, "cwd");
    mkdirSync(cwd);
    const conf = join(dir, "tools.toml");
    writeFileSync(
      conf,
      `name = "t"\nwork_dir = "${join(dir, "work2")}"\nlog_file = "${join(dir, "log2", "t.log")}"\nuser = "${user.name}"\ngroup = "${user.name}"\n[[magazine]]\npath = "${join(dir, "bay2")}"\nallow_unmounted = true\n[bacula]\nbconsole = "${bconsole}"\ntimeout = 20\n`,
    );
    const env = { ...BASE_ENV, HOME: "/root", LEAKME: "root-secret" };
    const init = await runBinary(
      ["magazine", "init", "-c", conf, "1", "--volumes", "1"],
      { env, cwd, timeoutMs: 20_000 },
    );
    expect(init.exitCode).toBe(0);
    const result = await runBinary(["refresh", "--force", "-c", conf], {
      env,
      cwd,
      timeoutMs: 30_000,
    });
    expect(result.exitCode).toBe(0);
    const seen = readFileSync(join(out, "env"), "utf8");
    expect(seen).toContain("cwd=/\n");
    expect(seen).toContain("HOME=/\n");
    expect(seen).toContain("LANG=C\n");
    expect(seen).toContain(`PATH=${BASE_ENV.PATH}\n`);
    expect(seen).not.toContain("LEAKME");
    expect(seen).not.toContain("/root");
  });
});
