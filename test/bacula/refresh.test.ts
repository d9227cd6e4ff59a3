// refresh against fake bconsole executables: the failure modes (missing, failing, slow, huge
// output, killed mid-way) are what these simulate. The real Director is in test/e2e/bacula.
import { runBconsole } from "../../src/bacula/bconsole.ts";
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangerContext } from "../../src/changer/context.ts";
import { validateConfig } from "../../src/config/load.ts";
import { ToolError } from "../../src/errors.ts";
import { nullLog } from "../../src/log.ts";
import { initMagazine } from "../../src/changer/init.ts";
import { refreshBacula } from "../../src/bacula/refresh.ts";
import { acquireLock } from "../../src/state/lock.ts";
import { readRegistry } from "../../src/state/registry.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-refresh-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir: string;
let n = 0;

let fakes = 0;
function fakeBconsole(body: string): string {
  const path = join(dir, `bconsole-${++fakes}`);
  writeFileSync(
    path,
    `#!/bin/bash\n# fake bconsole: records stdin and argv\nprintf '%s\\n' "$*" >> ${dir}/argv\ncat >> ${dir}/stdin\n${body}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

function context(
  bconsole: string,
  extra: Record<string, unknown> = {},
): ChangerContext {
  const config = validateConfig(
    {
      name: "c",
      work_dir: join(dir, "work"),
      log_level: "off",
      drives: 1,
      magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
      bacula: {
        bconsole,
        config: "/etc/bacula/test-bconsole.conf",
        timeout: 2,
        ...extra,
      },
    },
    "test.toml",
  );
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

beforeEach(async () => {
  dir = join(root, String(++n));
  mkdirSync(join(dir, "bay"), { recursive: true });
  await initMagazine(context("/bin/true"), 1, join(dir, "bay"), {
    volumes: 3,
    force: false,
  });
});

/** One bconsole session of a refresh without a pool: update, then what the catalog knows. */
const UPDATE =
  'update slots storage="c" drive=0\nlist volumes\nstatus storage="c"\nquit\n';

const stdin = () =>
  existsSync(join(dir, "stdin"))
    ? readFileSync(join(dir, "stdin"), "utf8")
    : "";

describe("refresh", () => {
  test("runs update slots once for a change, then has nothing to do", async () => {
    const ctx = context(fakeBconsole('echo "Connecting to Director"'));
    const first = await refreshBacula(ctx, { force: false });
    expect(first.ran).toBe(true);
    expect(stdin()).toBe(UPDATE);
    expect(readFileSync(join(dir, "argv"), "utf8")).toBe(
      "-n -c /etc/bacula/test-bconsole.conf\n",
    );
    const second = await refreshBacula(ctx, { force: false });
    expect(second).toMatchObject({
      ran: false,
      reason: "Bacula already has the current view",
    });
    expect(stdin()).toBe(UPDATE);
  });

  test("a missing bconsole is reported clearly and the update stays pending", async () => {
    const ctx = context(join(dir, "no-such-bconsole"));
    await expect(refreshBacula(ctx, { force: false })).rejects.toThrow(
      /no-such-bconsole is not installed/,
    );
    const retry = context(fakeBconsole("true"));
    expect((await refreshBacula(retry, { force: false })).reason).toBe(
      "a previous update did not finish",
    );
  });

  // refresh marks a damaged volume with `update volume=V volstatus=Error`; seen in the VM suite:
  // its answer was taken for a failure and the refresh failed.
  test("bconsole's answer to setting a volume's status to Error is no failure", async () => {
    const ctx = context(fakeBconsole('echo "New Volume status is: Error"'));
    const result = await runBconsole(
      ctx.config,
      ['update volume="c_0001_0001" volstatus=Error'],
      ctx.sys.exec,
    );
    expect(result.output).toContain("New Volume status is: Error");
    const failing = context(
      fakeBconsole('echo "Error: the catalog is locked"'),
    );
    await expect(
      runBconsole(failing.config, ["update slots"], failing.sys.exec),
    ).rejects.toThrow(
      "bconsole reported a failure: Error: the catalog is locked",
    );
  });

  test("a failing bconsole fails the refresh with its message; the next one retries", async () => {
    const ctx = context(
      fakeBconsole('echo "Storage resource \\"c\\": not found"'),
    );
    await expect(refreshBacula(ctx, { force: false })).rejects.toThrow(
      'bconsole reported a failure: Storage resource "c": not found; define Storage "c" (Autochanger = yes) in bacula-dir.conf (then `reload` in bconsole), or set [bacula] storage in test.toml to the Director\'s Storage for this changer',
    );
    const ctx2 = context(fakeBconsole("exit 1"));
    await expect(refreshBacula(ctx2, { force: false })).rejects.toThrow(
      /bconsole exited with 1/,
    );
    expect(
      (await refreshBacula(context(fakeBconsole("true")), { force: false }))
        .ran,
    ).toBe(true);
  });

  test("a slow bconsole is killed at the timeout, never a hang", async () => {
    const ctx = context(fakeBconsole("sleep 30"));
    const started = performance.now();
    await expect(refreshBacula(ctx, { force: false })).rejects.toBeInstanceOf(
      ToolError,
    );
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  test("more than 64 KiB of bconsole output is drained while it runs", async () => {
    const ctx = context(
      fakeBconsole("head -c 300000 /dev/zero | tr '\\0' 'x'; echo; echo done"),
    );
    expect((await refreshBacula(ctx, { force: false })).ran).toBe(true);
  });

  test("a retired slot is handed out again only after Bacula was told", async () => {
    const ctx = context(fakeBconsole("true"));
    await refreshBacula(ctx, { force: false });
    rmSync(join(dir, "bay", "c_0001_0002"));
    const before = await refreshBacula(context(fakeBconsole("exit 1")), {
      force: false,
    }).catch((e) => e);
    expect(before).toBeInstanceOf(ToolError);
    expect(readRegistry(ctx.config.work_dir).retired.get(2)).toBe(
      "c_0001_0002",
    );
    await refreshBacula(ctx, { force: false });
    expect(readRegistry(ctx.config.work_dir).retired.size).toBe(0);
  });

  describe("--if-pending (the timer's retry)", () => {
    const nothing = {
      ran: false,
      reason: "no Bacula update is pending",
      commands: [],
    };

    test("without a pending mark it touches neither the bays nor the lock", async () => {
      const ctx = context(fakeBconsole("true"));
      // Never refreshed: no refresh.json, nothing pending (unlock's trigger runs the full refresh).
      const bayGone = () => rmSync(join(dir, "bay"), { recursive: true });
      bayGone();
      const lock = acquireLock(ctx.config.work_dir, 1, "c");
      try {
        const busy = { ...ctx, config: { ...ctx.config, lock_timeout: 1 } };
        expect(
          await refreshBacula(busy, { force: false, ifPending: true }),
        ).toMatchObject(nothing);
      } finally {
        lock.release();
      }
      expect(existsSync(join(dir, "work/refresh.json"))).toBe(false);
      expect(stdin()).toBe("");
      // Told, nothing pending: a disk gone since is still not looked for.
      mkdirSync(join(dir, "bay"));
      await initMagazine(context("/bin/true"), 1, join(dir, "bay"), {
        volumes: 3,
        force: false,
      });
      await refreshBacula(ctx, { force: false });
      const told = readFileSync(join(dir, "work/refresh.json"), "utf8");
      bayGone();
      expect(
        await refreshBacula(ctx, { force: false, ifPending: true }),
      ).toMatchObject(nothing);
      expect(readFileSync(join(dir, "work/refresh.json"), "utf8")).toBe(told);
      expect(stdin()).toBe(UPDATE);
    });

    test("with a pending mark it runs the full refresh, bconsole once, then has nothing to do", async () => {
      await expect(
        refreshBacula(context(fakeBconsole("exit 1")), { force: false }),
      ).rejects.toBeInstanceOf(ToolError);
      const ctx = context(fakeBconsole("true"));
      const retry = await refreshBacula(ctx, { force: false, ifPending: true });
      expect(retry).toMatchObject({
        ran: true,
        reason: "a previous update did not finish",
      });
      // One update from the failed run, one from the retry.
      expect(stdin()).toBe(UPDATE.repeat(2));
      expect(
        await refreshBacula(ctx, { force: false, ifPending: true }),
      ).toMatchObject(nothing);
      expect(stdin()).toBe(UPDATE.repeat(2));
    });
  });
});
