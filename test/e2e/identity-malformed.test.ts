// A run-as user whose passwd entry has a malformed uid (an admin's typo: `bkp:x::34:...`) must
// not leave the process root: Number("") is 0, so setuid(0) "succeeded" and every later check
// compared 0 with 0 (found by review). The entry is planted in a private mount namespace over a
// copy of /etc/passwd, so the host's file is never touched.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { BASE_ENV, BINARY } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const SUITE = "a malformed passwd entry never leaves root in charge";

describe.skipIf(skipUnless(["root", "tool:unshare"], SUITE))(SUITE, () => {
  let dir = "";
  beforeAll(() => {
    dir = makeTempDir("idmal");
    mkdirSync(join(dir, "bay"));
    mkdirSync(join(dir, "work"));
    writeFileSync(
      join(dir, "passwd"),
      `${readFileSync("/etc/passwd", "utf8")}mcbad:x::34:bad:/nonexistent:/usr/sbin/nologin\n`,
    );
    writeFileSync(
      join(dir, "c.toml"),
      `name = "idm"\nwork_dir = "${dir}/work"\nlog_file = "${dir}/idm.log"\nuser = "mcbad"\ngroup = "root"\n[[magazine]]\npath = "${dir}/bay"\nallow_unmounted = true\n`,
      { mode: 0o644 },
    );
  });
  afterAll(() => {
    if (dir) removeTempDir(dir);
  });

  test("the changer refuses with exit 7 naming the entry, and writes nothing", () => {
    const child = Bun.spawnSync(
      [
        "unshare",
        "--mount",
        "--",
        "sh",
        "-c",
        'mount --bind "$1" /etc/passwd && exec "$2" changer "$3" list',
        "sh",
        join(dir, "passwd"),
        BINARY,
        join(dir, "c.toml"),
      ],
      { env: BASE_ENV, stdout: "pipe", stderr: "pipe", timeout: 20_000 },
    );
    expect({
      exitCode: child.exitCode,
      stderr: child.stderr.toString(),
      stdout: child.stdout.toString(),
    }).toEqual({
      exitCode: 7,
      stderr:
        'magchanger: the passwd entry of mcbad has uid "" and gid "34", not plain numbers; fix it in /etc/passwd (or the directory it comes from)\n',
      stdout: "",
    });
    expect(
      Bun.spawnSync(["ls", "-A", join(dir, "work")]).stdout.toString(),
    ).toBe("");
  });
});
