// The validated-config cache: the storage daemon's user reuses a zod validation of the exact
// same config text; an edited config is validated again; foreign caches are ignored; root
// reads it only after it has become the run-as user.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookupGroup, lookupUser } from "../../src/system/identity.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { binaryForUsers } from "../helpers/run.ts";

const SUITE = "validated-config cache";
const nobody = lookupUser("nobody");
const nogroup = lookupGroup("nogroup");
/** The binary where nobody can run it; set in beforeAll. */
let binary = "";

const dir = mkdtempSync(join(tmpdir(), "magchanger-cache-"));
const conf = join(dir, "c.toml");
const cache = join(dir, "work/config.cache.json");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(drives: number, extra = ""): void {
  writeFileSync(
    conf,
    `name = "c"\nwork_dir = "${dir}/work"\nlog_file = "${dir}/log"\nuser = "nobody"\ngroup = "nogroup"\ndrives = ${drives}\n${extra}[[magazine]]\npath = "${dir}/bay"\nallow_unmounted = true\n`,
  );
}

function asNobody(...args: string[]) {
  const r = Bun.spawnSync(
    [
      "setpriv",
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      binary,
      ...args,
    ],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  return {
    code: r.exitCode,
    out: r.stdout.toString(),
    err: r.stderr.toString(),
  };
}

describe.skipIf(
  skipUnless(
    ["root", "user:nobody", "group:nogroup", "tool:setpriv", "exec-as-user"],
    SUITE,
  ),
)(SUITE, () => {
  beforeAll(() => {
    binary = binaryForUsers();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "bay"));
    chownSync(join(dir, "bay"), nobody?.uid ?? 0, nogroup?.gid ?? 0);
    config(2);
    const init = Bun.spawnSync(
      [binary, "magazine", "init", "-c", conf, "1", "--volumes", "2"],
      { stderr: "pipe" },
    );
    expect(init.stderr.toString()).toBe("");
  });

  test("a locked command stores the validation, readable by its owner only", () => {
    expect(asNobody("changer", conf, "list").out).toBe(
      "1:c_0001_0001\n2:c_0001_0002\n",
    );
    const text = readFileSync(cache, "utf8");
    expect(JSON.parse(text).config.drives).toBe(2);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(statSync(cache).uid).toBe(nobody?.uid ?? -1);
  });

  test("an edited config takes effect at once; an invalid edit is an error, not the old config", () => {
    config(1);
    expect(asNobody("changer", conf, "unload", "0", "x", "1")).toMatchObject({
      code: 1,
      out: "",
    });
    config(1, "drivez = 2\n");
    const bad = asNobody("changer", conf, "loaded", "0", "x", "0");
    expect(bad.code).toBe(3);
    expect(bad.err).toContain("unknown key drivez");
    config(2);
    expect(asNobody("changer", conf, "list").code).toBe(0);
  });

  test("a cache others can write is ignored", () => {
    const entry = JSON.parse(readFileSync(cache, "utf8"));
    entry.config.drives = 6;
    // Re-sealed as config/cache.ts seals an entry (an edit without it is ignored anyway).
    const { digest, config: c, syntax, notes } = entry;
    entry.check = Bun.hash.crc32(
      `${digest}\n${JSON.stringify({ config: c, syntax, notes })}`,
    );
    writeFileSync(cache, JSON.stringify(entry));
    chmodSync(cache, 0o666);
    // unload of an empty drive succeeds only when the drive exists: drives = 2 from the file...
    expect(asNobody("changer", conf, "unload", "0", "x", "5").code).toBe(1);
    chmodSync(cache, 0o600);
    // ...or 6 from a cache the user itself sealed (it could have edited its own state anyway).
    expect(asNobody("changer", conf, "unload", "0", "x", "5")).toMatchObject({
      code: 0,
      out: "",
    });
  });

  const asRoot = (...args: string[]) => {
    const r = Bun.spawnSync([binary, ...args], {
      stdout: "pipe",
      stderr: "pipe",
    });
    return {
      code: r.exitCode,
      out: r.stdout.toString(),
      err: r.stderr.toString(),
    };
  };
  const outOfRange =
    "magchanger: drive 5 is out of range: changer c has drives 0..1 (config key drives)\n";

  test("root reads the cache only after becoming the run-as user: it gets what that user gets", () => {
    // The entry sealed above says drives = 6; the file says 2. Root becomes nobody (named by
    // root's own config) before it looks, so the cache gives it nothing nobody lacks.
    expect(asRoot("changer", conf, "unload", "0", "x", "5")).toMatchObject({
      code: 0,
      out: "",
      err: "",
    });
    // The vchanger form's -u/-g names the user the same way.
    expect(
      asRoot("-u", "nobody", "-g", "nogroup", conf, "unload", "0", "x", "5"),
    ).toMatchObject({ code: 0, out: "", err: "" });
  });

  test("root ignores a cache others can write, and one naming another run-as user", () => {
    chmodSync(cache, 0o666);
    expect(asRoot("changer", conf, "unload", "0", "x", "5")).toMatchObject({
      code: 1,
      err: outOfRange,
    });
    chmodSync(cache, 0o600);
    const entry = JSON.parse(readFileSync(cache, "utf8"));
    entry.config.user = "root";
    entry.config.group = "root";
    const { digest, config: c, syntax, notes } = entry;
    entry.check = Bun.hash.crc32(
      `${digest}\n${JSON.stringify({ config: c, syntax, notes })}`,
    );
    writeFileSync(cache, JSON.stringify(entry));
    chownSync(cache, nobody?.uid ?? 0, nogroup?.gid ?? 0);
    chmodSync(cache, 0o600);
    expect(asRoot("changer", conf, "unload", "0", "x", "5")).toMatchObject({
      code: 1,
      err: outOfRange,
    });
    // With -u/-g the names come from the command line, as before: the entry's own user and
    // group are not used, and root, now nobody, may read what nobody sealed.
    expect(
      asRoot("-u", "nobody", "-g", "nogroup", conf, "unload", "0", "x", "5"),
    ).toMatchObject({ code: 0, err: "" });
  });
});
