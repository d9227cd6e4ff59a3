// `status` against a fake bconsole answering with real 9.6.7 `status storage` captures: a backup
// waiting for any volume with space is shown with the disk in the drawer that holds one (told
// once as space-needed), and a status whose bconsole call failed forgets no wait it told (the
// next read would tell it again).
import { afterAll, beforeEach, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { changerStatus, formatStatus } from "../../src/bacula/status.ts";
import type { ChangerContext } from "../../src/changer/context.ts";
import {
  type KnownMagazine,
  writeKnownMagazines,
} from "../../src/changer/known-magazines.ts";
import { validateConfig } from "../../src/config/load.ts";
import { nullLog } from "../../src/log.ts";
import { emptyRegistry, writeRegistry } from "../../src/state/registry.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-status-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir = "";
let work = "";
let n = 0;
const FIXTURES = join(import.meta.dir, "fixtures");
const uuid = (m: number) => `00000000-0000-4000-8000-00000000000${m}`;
const CATALOG = `list volumes
Pool: mc-pool
| MediaId | VolumeName  | VolStatus | Enabled | VolBytes | VolFiles | VolRetention | Recycle | Slot | InChanger | MediaType | VolType | VolParts | LastWritten | ExpiresIn |
| 1       | s_0001_0001 | Full      | 1       | 1048576  | 0        | 31536000     | 0       | 1    | 1         | File      | 1       | 0        | 0           | 99        |
| 2       | s_0002_0001 | Purged    | 1       | 2097152  | 0        | 31536000     | 1       | 0    | 0         | File      | 1       | 0        | 0           | 0         |
| 3       | mccap_0002_0006 | Full  | 1       | 2097152  | 0        | 31536000     | 0       | 0    | 0         | File      | 1       | 0        | 0           | 99        |
`;

/** bconsole: `status storage` answers with the capture named in $dir/sd, `list volumes` with the catalog; $dir/fail makes it fail. */
function fakeBconsole(): void {
  const path = join(dir, "bconsole");
  writeFileSync(
    path,
    `#!/bin/bash
in=$(cat); printf '%s\\n' "$in" >> ${dir}/stdin
if [ -e ${dir}/fail ]; then echo "Director authorization problem"; exit 1; fi
if grep -q '^status storage' <<<"$in"; then cat "${FIXTURES}/sd-status-$(cat ${dir}/sd).txt"; fi
if grep -q '^list volumes' <<<"$in"; then cat ${dir}/catalog; fi
`,
  );
  chmodSync(path, 0o755);
  writeFileSync(join(dir, "catalog"), CATALOG);
}

function context(): ChangerContext {
  const config = validateConfig(
    {
      name: "s",
      work_dir: work,
      log_level: "off",
      drives: 2,
      magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
      bacula: {
        bconsole: join(dir, "bconsole"),
        config: "/etc/bacula/test-bconsole.conf",
        timeout: 5,
        pool: "mc-pool",
      },
    },
    "/etc/magchanger/s.toml",
  );
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

const events = () =>
  readdirSync(join(work, "events"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(work, "events", f), "utf8")));

beforeEach(() => {
  dir = join(root, String(++n));
  work = join(dir, "work");
  mkdirSync(join(dir, "bay"), { recursive: true });
  mkdirSync(work);
  fakeBconsole();
  // Magazine 1 was attached (its disk is full), 2 "Tuesday" is in the drawer with a purged
  // volume; mccap_0002_0006 (the capture's restore) is on Tuesday too.
  const registry = emptyRegistry();
  const volumes: [number, string, number][] = [
    [1, "s_0001_0001", 1],
    [2, "s_0002_0001", 2],
    [3, "mccap_0002_0006", 2],
  ];
  for (const [slot, barcode, m] of volumes) {
    const entry = { slot, magazine: uuid(m), barcode };
    registry.slots.set(slot, entry);
    registry.byBarcode.set(barcode, entry);
    registry.magazines.set(uuid(m), m);
  }
  writeRegistry(work, registry);
  const known = new Map<string, KnownMagazine>([
    [uuid(1), { uuid: uuid(1), number: 1, attached: true, bay: 1 }],
    [
      uuid(2),
      { uuid: uuid(2), number: 2, name: "Tuesday", attached: false, bay: 1 },
    ],
  ]);
  writeKnownMagazines(work, known);
});

test("a backup waiting for a volume with space: status names the disk in the drawer that holds one, and tells it once", async () => {
  writeFileSync(join(dir, "sd"), "blocked-append");
  const status = await changerStatus(context());
  expect(status.space).toMatchObject([
    {
      drive: 1,
      pool: "mc-pool",
      jobs: [{ jobid: 4, name: "mc-backup" }],
      attached: [],
      drawer: [
        {
          magazine: { number: 2, name: "Tuesday" },
          purged: 1,
          volumes: ["s_0002_0001"],
        },
      ],
    },
  ]);
  expect(formatStatus(status).split("\n")).toContain(
    `mc-backup JobId 4 waits for a volume with space in pool "mc-pool": attach magazine 2 "Tuesday" (UUID ${uuid(2)}): 1 volume it may use (1 purged; 2.0 MiB to reuse); the refresh that follows lets it try again`,
  );
  await changerStatus(context());
  expect(
    events().map((e) => [e.kind, e.pool, e.magazines[0].magazine.name]),
  ).toEqual([["space-needed", "mc-pool", "Tuesday"]]);
});

test("a status whose bconsole call failed forgets no wait it told: no second event once the SD answers again", async () => {
  for (const sd of ["blocked-append", "blocked-mount"]) {
    writeFileSync(join(dir, "sd"), sd);
    await changerStatus(context());
    writeFileSync(join(dir, "fail"), "");
    expect((await changerStatus(context())).baculaError).toBeString();
    rmSync(join(dir, "fail"));
    await changerStatus(context());
  }
  expect(
    events()
      .map((e) => e.kind)
      .sort(),
  ).toEqual(["space-needed", "volume-needed"]);
});
