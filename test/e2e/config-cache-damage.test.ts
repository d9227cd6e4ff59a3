// A validated-config cache is used only when it is, byte for byte, what this build's validation
// of this exact config text stored: one edited in place (a shape zod would refuse, a value it
// would allow, a field that is no list) is ignored and the config validated again, so the
// command behaves as the config file says, in bounded time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookupGroup, lookupUser } from "../../src/system/identity.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { binaryForUsers } from "../helpers/run.ts";

const SUITE = "validated-config cache edited in place";
const nobody = lookupUser("nobody");
const nogroup = lookupGroup("nogroup");
let binary = "";

const dir = mkdtempSync(join(tmpdir(), "magchanger-cache-damage-"));
const conf = join(dir, "c.toml");
const cache = join(dir, "work/config.cache.json");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
    { stdout: "pipe", stderr: "pipe", timeout: 10_000, killSignal: "SIGKILL" },
  );
  return {
    code: r.exitCode,
    signal: r.signalCode ?? null,
    out: r.stdout.toString(),
    err: r.stderr.toString(),
  };
}

/** Each edits the stored cache entry in place (owner and mode stay the user's own 0600). */
const EDITS: Record<string, (entry: Record<string, unknown>) => unknown> = {
  "notes is no list": (e) => ({ ...e, notes: 5 }),
  "notes holds a number": (e) => ({ ...e, notes: [7] }),
  "drives = 100000": (e) => ({
    ...e,
    config: { ...(e.config as object), drives: 100000 },
  }),
  "drives = 6 (a value zod allows)": (e) => ({
    ...e,
    config: { ...(e.config as object), drives: 6 },
  }),
  "magazine is no list": (e) => ({
    ...e,
    config: { ...(e.config as object), magazine: "x" },
  }),
  "config is null": (e) => ({ ...e, config: null }),
  "syntax unknown": (e) => ({ ...e, syntax: "ini" }),
  "the whole entry an array": () => [1, 2],
};

describe.skipIf(
  skipUnless(
    ["root", "user:nobody", "group:nogroup", "tool:setpriv", "exec-as-user"],
    SUITE,
  ),
)(SUITE, () => {
  let stored = "";
  beforeAll(() => {
    binary = binaryForUsers();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "bay"));
    chownSync(join(dir, "bay"), nobody?.uid ?? 0, nogroup?.gid ?? 0);
    writeFileSync(
      conf,
      `name = "c"\nwork_dir = "${dir}/work"\nlog_file = "${dir}/log"\nuser = "nobody"\ngroup = "nogroup"\ndrives = 2\n[[magazine]]\npath = "${dir}/bay"\nallow_unmounted = true\n`,
    );
    const init = Bun.spawnSync(
      [binary, "magazine", "init", "-c", conf, "1", "--volumes", "2"],
      { stderr: "pipe" },
    );
    expect(init.stderr.toString()).toBe("");
    expect(asNobody("changer", conf, "list").code).toBe(0);
    stored = readFileSync(cache, "utf8");
  });

  for (const [name, edit] of Object.entries(EDITS)) {
    test(`${name}: ignored; the config file's own validation decides`, () => {
      writeFileSync(cache, JSON.stringify(edit(JSON.parse(stored))));
      expect(asNobody("changer", conf, "loaded", "0", "x", "0")).toEqual({
        code: 0,
        signal: null,
        out: "0\n",
        err: "",
      });
      writeFileSync(cache, JSON.stringify(edit(JSON.parse(stored))));
      // drives = 2 in the file: drive 5 does not exist, whatever the cache said.
      expect(asNobody("changer", conf, "unload", "0", "x", "5")).toMatchObject({
        code: 1,
        signal: null,
        out: "",
        err: "magchanger: drive 5 is out of range: changer c has drives 0..1 (config key drives)\n",
      });
    });
  }

  test("the cache as stored is still used (its speed is the point)", () => {
    writeFileSync(cache, stored);
    expect(asNobody("changer", conf, "loaded", "0", "x", "0").out).toBe("0\n");
    // Untouched by a call that used it: read-only commands write nothing.
    expect(readFileSync(cache, "utf8")).toBe(stored);
  });
});
