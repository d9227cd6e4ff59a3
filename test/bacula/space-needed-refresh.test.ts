// Where a wait for a volume with space is told: by refresh (from its own `status storage` and
// `list volumes`, no extra bconsole call) and by the timer's `refresh --if-pending` with nothing
// pending (one `status storage`, then `list volumes` only for a wait not told yet, no lock, no
// bay scanned), once per wait. bconsole is a fake answering with a real 9.6.7 capture of a backup
// that filled the attached disk (test/bacula/fixtures/sd-status-blocked-append.txt).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshBacula } from "../../src/bacula/refresh.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import { initMagazine } from "../../src/changer/init.ts";
import { validateConfig } from "../../src/config/load.ts";
import { nullLog } from "../../src/log.ts";
import { acquireLock } from "../../src/state/lock.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-space-refresh-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir = "";
let n = 0;
const BLOCKED = join(
  import.meta.dir,
  "fixtures",
  "sd-status-blocked-append.txt",
);

const row = (id: number, name: string, status: string, recycle = 0) =>
  `| ${id} | ${name} | ${status} | 1 | 2097152 | 0 | 31536000 | ${recycle} | 0 | 0 | File | 1 | 0 | 0 | ${status === "Purged" ? 0 : 99} |`;

/** Magazine 1 (in the drawer): one purged volume; magazine 2 (attached): all full. */
const CATALOG = `Pool: mc-pool
| MediaId | VolumeName | VolStatus | Enabled | VolBytes | VolFiles | VolRetention | Recycle | Slot | InChanger | MediaType | VolType | VolParts | LastWritten | ExpiresIn |
${row(1, "c_0001_0001", "Purged", 1)}
${row(2, "c_0001_0002", "Full")}
${row(3, "c_0002_0001", "Full")}
${row(4, "c_0002_0002", "Full")}
`;

const sessions = () =>
  existsSync(join(dir, "stdin"))
    ? readFileSync(join(dir, "stdin"), "utf8").split("\n---\n").filter(Boolean)
    : [];
const firstLines = () => sessions().map((s) => s.split("\n")[0]);

function fakeBconsole(): string {
  const path = join(dir, "bconsole");
  writeFileSync(
    path,
    `#!/bin/bash
session=$(cat)
printf '%s\\n---\\n' "$session" >> ${dir}/stdin
case "$session" in *"mount storage"*) echo "3001 OK mount requested." ;; esac
case "$session" in *"list volumes"*) echo "list volumes"; cat ${dir}/catalog ;; esac
case "$session" in *"status storage"*) cat ${dir}/sd-status ;; esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

function context(notify = false): ChangerContext {
  const config = validateConfig(
    {
      name: "c",
      work_dir: join(dir, "work"),
      log_level: "off",
      drives: 2,
      magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
      bacula: {
        bconsole: fakeBconsole(),
        config: "/etc/bacula/test.conf",
        timeout: 5,
      },
      ...(notify ? { notify: { command: ["/bin/true"] } } : {}),
    },
    "test.toml",
  );
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

const spaceEvents = () =>
  readdirSync(join(dir, "work", "events"))
    .filter((f) => f.endsWith(".json"))
    .map((f) =>
      JSON.parse(readFileSync(join(dir, "work", "events", f), "utf8")),
    )
    .filter((e) => e.kind === "space-needed");

beforeEach(async () => {
  dir = join(root, String(++n));
  const bay = join(dir, "bay");
  mkdirSync(bay, { recursive: true });
  writeFileSync(join(dir, "sd-status"), "");
  writeFileSync(join(dir, "catalog"), CATALOG);
  // Magazine 1 is prepared and refreshed, goes to the drawer; magazine 2 takes its bay.
  await initMagazine(context(), 1, bay, { volumes: 2, force: false });
  await refreshBacula(context(), { force: false });
  renameSync(bay, join(dir, "drawer-1"));
  mkdirSync(bay);
  await initMagazine(context(), 1, bay, { volumes: 2, force: false });
  await refreshBacula(context(), { force: false });
  writeFileSync(join(dir, "sd-status"), readFileSync(BLOCKED));
  rmSync(join(dir, "stdin"));
});

describe("a backup that filled the attached disk", () => {
  test("refresh tells it from its own bconsole answers, once, and still asks the SD to try again", async () => {
    const outcome = await refreshBacula(context(), { force: true });
    expect(outcome.resumed.map((r) => r.command)).toEqual([
      'mount storage="c" drive=1 slot=0',
    ]);
    expect(firstLines()).toEqual([
      'update slots storage="c" drive=0',
      'mount storage="c" drive=1 slot=0',
    ]);
    expect(spaceEvents()).toMatchObject([
      {
        pool: "mc-pool",
        jobs: [{ jobid: 4, name: "mc-backup" }],
        magazines: [
          {
            magazine: { number: 1 },
            purged: 1,
            volumes: ["c_0001_0001"],
            reusableBytes: 2097152,
          },
        ],
      },
    ]);
    await refreshBacula(context(), { force: true });
    expect(spaceEvents()).toHaveLength(1);
  });

  test("the timer with nothing pending: status storage, then list volumes only until the wait is told; no lock", async () => {
    const lock = acquireLock(join(dir, "work"), 1, "c");
    try {
      for (let i = 0; i < 2; i++)
        expect(
          await refreshBacula(context(true), {
            force: false,
            ifPending: true,
          }),
        ).toMatchObject({ ran: false, reason: "no Bacula update is pending" });
    } finally {
      lock.release();
    }
    expect(firstLines()).toEqual([
      'status storage="c"',
      "list volumes",
      'status storage="c"',
    ]);
    expect(spaceEvents()).toMatchObject([
      { pool: "mc-pool", magazines: [{ magazine: { number: 1 }, purged: 1 }] },
    ]);
  });

  test("the attached disk holds an appendable volume of the pool: not told, refresh lets the job try again", async () => {
    writeFileSync(
      join(dir, "catalog"),
      CATALOG.replace(
        row(4, "c_0002_0002", "Full"),
        row(4, "c_0002_0002", "Append"),
      ),
    );
    await refreshBacula(context(), { force: true });
    await refreshBacula(context(true), { force: false, ifPending: true });
    expect(spaceEvents()).toEqual([]);
  });

  test("no disk holds one: told that a new disk is needed", async () => {
    writeFileSync(
      join(dir, "catalog"),
      CATALOG.replace(
        row(1, "c_0001_0001", "Purged", 1),
        row(1, "c_0001_0001", "Full"),
      ),
    );
    await refreshBacula(context(true), { force: false, ifPending: true });
    expect(spaceEvents()).toMatchObject([{ pool: "mc-pool", magazines: [] }]);
  });
});
