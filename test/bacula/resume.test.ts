// Resume: which drives get a mount (pure planning over real 9.6.7 `status storage` outputs), and
// refresh sending it against a fake bconsole whose `status storage` answer is such a capture:
// after the update, before the pending mark is cleared, so a failed or killed (-9) resume is
// repeated by the next refresh, and a drive that no longer waits never gets a second mount.
import {
  afterAll,
  afterEach,
  beforeEach,
  describe,
  expect,
  test,
} from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshBacula } from "../../src/bacula/refresh.ts";
import { planResume } from "../../src/bacula/resume.ts";
import { parseStorageStatus } from "../../src/bacula/sd-status.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import { initMagazine } from "../../src/changer/init.ts";
import { validateConfig } from "../../src/config/load.ts";
import { ToolError } from "../../src/errors.ts";
import { nullLog } from "../../src/log.ts";
import { acquireLock } from "../../src/state/lock.ts";
import { realSystem } from "../../src/system/system.ts";

const REPO = join(import.meta.dir, "..", "..");
const fixture = (name: string) =>
  readFileSync(
    join(import.meta.dir, "fixtures", `sd-status-${name}.txt`),
    "utf8",
  );
const status = (name: string) => parseStorageStatus(fixture(name));
const present = [
  { slot: 7, barcode: "mccap_0002_0005" },
  { slot: 8, barcode: "mccap_0002_0006" },
];

describe("planResume", () => {
  const plan = (
    name: string,
    over: Partial<Parameters<typeof planResume>[0]> = {},
  ) =>
    planResume({
      storage: '"S"',
      status: status(name),
      present,
      changed: true,
      ...over,
    });

  test("a drive blocked for a volume now in the changer gets mount with its slot", () => {
    expect(plan("blocked-mount")).toEqual([
      {
        drive: 0,
        slot: 8,
        volume: "mccap_0002_0006",
        jobs: [{ jobid: 3, name: "mc-restore" }],
        command: 'mount storage="S" drive=0 slot=8',
      },
    ]);
  });

  test("a drive blocked for a volume still in the drawer is left waiting", () => {
    expect(plan("blocked-mount", { present: present.slice(0, 1) })).toEqual([]);
  });

  test("reading, writing, idle and operator-unmounted drives never get a mount", () => {
    for (const name of ["reading", "writing", "idle", "after-jobs"])
      expect(plan(name)).toEqual([]);
    const unmounted = fixture("blocked-mount").replace(
      /Device is BLOCKED waiting for mount of volume "[^"]*",/,
      "Device is BLOCKED. User unmounted.",
    );
    expect(
      planResume({
        storage: '"S"',
        status: parseStorageStatus(unmounted),
        present,
        changed: true,
      }),
    ).toEqual([]);
  });

  test("a wait for any appendable volume is woken (slot=0) only when volumes appeared", () => {
    expect(plan("blocked-append")).toEqual([
      {
        drive: 1,
        slot: 0,
        jobs: [{ jobid: 4, name: "mc-backup" }],
        command: 'mount storage="S" drive=1 slot=0',
      },
    ]);
    expect(plan("blocked-append", { changed: false })).toEqual([]);
    expect(plan("blocked-append", { present: [] })).toEqual([]);
  });
});

const root = mkdtempSync(join(tmpdir(), "magchanger-resume-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir = "";
let n = 0;
/** The `status storage` answer of the fake SD: a real capture, its volume one of ours. */
const sdSays = (name: string) =>
  writeFileSync(
    join(dir, "sd-status"),
    fixture(name).replaceAll("mccap_0002_0006", "c_0001_0002"),
  );
const mountMode = (mode: "ok" | "fail" | "hang") =>
  writeFileSync(join(dir, "mount-mode"), mode);
const sessions = () =>
  existsSync(join(dir, "stdin"))
    ? readFileSync(join(dir, "stdin"), "utf8").split("\n---\n").filter(Boolean)
    : [];
const mounts = () => sessions().filter((s) => s.includes("mount storage"));

function fakeBconsole(): string {
  const path = join(dir, "bconsole");
  writeFileSync(
    path,
    `#!/bin/bash
session=$(cat)
printf '%s\\n---\\n' "$session" >> ${dir}/stdin
case "$session" in
  *"mount storage"*)
    case "$(cat ${dir}/mount-mode)" in
      fail) echo "3999 Device \\"d0\\" not found. ERR=boom"; exit 0 ;;
      hang) echo $$ > ${dir}/bconsole.pid; touch ${dir}/mount-started; exec sleep 60 ;;
    esac
    echo "3001 OK mount requested." ;;
esac
case "$session" in *"status storage"*) cat ${dir}/sd-status ;; esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

function rawConfig(timeout = 5, extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    name: "c",
    work_dir: join(dir, "work"),
    log_level: "off",
    drives: 2,
    magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
    bacula: {
      bconsole: fakeBconsole(),
      config: "/etc/bacula/test.conf",
      timeout,
    },
  };
}

function context(
  timeout = 5,
  extra: Record<string, unknown> = {},
): ChangerContext {
  const config = validateConfig(rawConfig(timeout, extra), "test.toml");
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

const pending = () =>
  Boolean(
    JSON.parse(readFileSync(join(dir, "work", "refresh.json"), "utf8")).pending,
  );

describe("refresh resumes a waiting job", () => {
  beforeEach(async () => {
    dir = join(root, String(++n));
    mkdirSync(join(dir, "bay"), { recursive: true });
    sdSays("idle");
    mountMode("ok");
    await initMagazine(context(), 1, join(dir, "bay"), {
      volumes: 3,
      force: false,
    });
  });
  afterEach(() => {
    try {
      process.kill(
        Number(readFileSync(join(dir, "bconsole.pid"), "utf8")),
        "SIGKILL",
      );
    } catch {}
  });

  test("after the update: one mount for the blocked drive, reported as resumed, not as waiting", async () => {
    sdSays("blocked-mount");
    const outcome = await refreshBacula(context(), { force: false });
    expect(outcome.resumed.map((r) => r.command)).toEqual([
      'mount storage="c" drive=0 slot=2',
    ]);
    expect(outcome.waiting).toEqual([]);
    expect(sessions().map((s) => s.split("\n")[0])).toEqual([
      'update slots storage="c" drive=0',
      'mount storage="c" drive=0 slot=2',
    ]);
    expect(pending()).toBe(false);
  });

  test("a job that does not wait gets nothing: one bconsole call, as before", async () => {
    sdSays("reading");
    const outcome = await refreshBacula(context(), { force: false });
    expect(outcome.resumed).toEqual([]);
    expect(sessions()).toHaveLength(1);
  });

  test("a failed mount fails the refresh and stays pending; the timer's retry mounts once, then nothing", async () => {
    sdSays("blocked-mount");
    mountMode("fail");
    await expect(
      refreshBacula(context(), { force: false }),
    ).rejects.toBeInstanceOf(ToolError);
    expect(pending()).toBe(true);
    mountMode("ok");
    const retry = await refreshBacula(context(), {
      force: false,
      ifPending: true,
    });
    expect(retry.resumed).toHaveLength(1);
    expect(mounts()).toHaveLength(2);
    expect(pending()).toBe(false);
    // The SD reads now: a forced refresh sends no mount.
    sdSays("reading");
    await refreshBacula(context(), { force: true });
    expect(mounts()).toHaveLength(2);
  });

  test("kill -9 while the mount runs: the next refresh repeats it while the drive still waits, never after", async () => {
    sdSays("blocked-mount");
    mountMode("hang");
    const script = join(dir, "refresh-child.ts");
    writeFileSync(
      script,
      `import { refreshBacula } from "${REPO}/src/bacula/refresh.ts";
import { validateConfig } from "${REPO}/src/config/load.ts";
import { nullLog } from "${REPO}/src/log.ts";
import { realSystem } from "${REPO}/src/system/system.ts";
const config = validateConfig(JSON.parse(process.argv[2]), "test.toml");
await refreshBacula({ config, log: nullLog, sys: realSystem(config.tools) }, { force: false });
`,
    );
    const child = Bun.spawn(
      [process.execPath, script, JSON.stringify(rawConfig(60))],
      {
        stdout: "ignore",
        stderr: "ignore",
      },
    );
    try {
      for (let i = 0; i < 600 && !existsSync(join(dir, "mount-started")); i++)
        await Bun.sleep(50);
      expect(existsSync(join(dir, "mount-started"))).toBe(true);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
    expect(pending()).toBe(true);
    mountMode("ok");
    const retry = await refreshBacula(context(), {
      force: false,
      ifPending: true,
    });
    expect(retry.resumed.map((r) => r.command)).toEqual([
      'mount storage="c" drive=0 slot=2',
    ]);
    expect(mounts()).toHaveLength(2);
    expect(pending()).toBe(false);
    sdSays("reading");
    await refreshBacula(context(), { force: true });
    expect(mounts()).toHaveLength(2);
  });

  test("the timer's --if-pending with nothing pending and [notify] set: tells a wait for a disk in the drawer once, touching neither bays nor lock", async () => {
    const notify = { notify: { command: ["/bin/true"] } };
    await refreshBacula(context(5, notify), { force: false });
    rmSync(join(dir, "bay"), { recursive: true }); // the disk went to the drawer
    mkdirSync(join(dir, "bay"));
    await refreshBacula(context(5, notify), { force: false });
    sdSays("blocked-mount");
    const before = sessions().length;
    const lock = acquireLock(join(dir, "work"), 1, "c");
    try {
      for (let i = 0; i < 2; i++)
        expect(
          await refreshBacula(context(5, notify), {
            force: false,
            ifPending: true,
          }),
        ).toMatchObject({ ran: false, reason: "no Bacula update is pending" });
    } finally {
      lock.release();
    }
    expect(
      sessions()
        .slice(before)
        .map((s) => s.split("\n")[0]),
    ).toEqual(['status storage="c"', 'status storage="c"']);
    const needed = readdirSync(join(dir, "work", "events"))
      .filter((f) => f.endsWith(".json"))
      .map((f) =>
        JSON.parse(readFileSync(join(dir, "work", "events", f), "utf8")),
      )
      .filter((e) => e.kind === "volume-needed");
    expect(needed).toMatchObject([
      { volume: "c_0001_0002", slot: 2, magazine: { number: 1 } },
    ]);
    // Without [notify] nobody would be told: the timer then runs no bconsole at all.
    await refreshBacula(context(), { force: false, ifPending: true });
    expect(sessions().length).toBe(before + 2);
  });
});
