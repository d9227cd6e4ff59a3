// refresh asks Bacula's catalog which volumes of the changer it knows and labels the others
// (issue 11, items 2, 3 and 5). bconsole is a fake Director that answers `list volumes` from a
// catalog file and adds the volumes a `label barcodes` names; the real Director's wording is
// proved in test/e2e/bacula/boundary.test.ts.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangerContext } from "../../src/changer/context.ts";
import { refreshReport } from "../../src/bacula/refresh-report.ts";
import { validateConfig } from "../../src/config/load.ts";
import { nullLog } from "../../src/log.ts";
import { labelWarning } from "../../src/bacula/report.ts";
import { initMagazine } from "../../src/changer/init.ts";
import { refreshBacula } from "../../src/bacula/refresh.ts";
import { unlabeledAtLastRefresh } from "../../src/bacula/refresh-state.ts";
import { realSystem } from "../../src/system/system.ts";

const root = mkdtempSync(join(tmpdir(), "magchanger-refresh-catalog-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir: string;
let n = 0;
const VOLUMES = ["c_0001_0001", "c_0001_0002", "c_0001_0003"];

/** A Director: `list volumes` prints the catalog file; `label barcodes ... slots=` adds those. */
function fakeDirector(extra = ""): string {
  const path = join(dir, "bconsole");
  writeFileSync(
    path,
    `#!/bin/bash
in=$(cat); printf '%s\\n' "$in" >> ${dir}/stdin
${extra}
if grep -q '^label barcodes' <<<"$in"; then
  for s in $(grep -o 'slots=[0-9,-]*' <<<"$in" | cut -d= -f2 | tr ',' ' '); do
    for i in $(seq \${s%-*} \${s#*-}); do printf 'c_0001_%04d\\n' $i >> ${dir}/catalog; done
  done
fi
if grep -q '^list volumes' <<<"$in"; then
  echo "Pool: Default"
  while read -r v; do [ -n "$v" ] && echo "| 7       | $v | Append    | 1       |"; done < ${dir}/catalog
fi
`,
  );
  chmodSync(path, 0o755);
  return path;
}

function context(extra: Record<string, unknown> = {}): ChangerContext {
  const config = validateConfig(
    {
      name: "c",
      work_dir: join(dir, "work"),
      log_level: "off",
      drives: 2,
      magazine: [{ path: join(dir, "bay"), allow_unmounted: true }],
      bacula: {
        bconsole: join(dir, "bconsole"),
        config: "/etc/bacula/test-bconsole.conf",
        timeout: 5,
        ...extra,
      },
    },
    "/etc/magchanger/c.toml",
  );
  return { config, log: nullLog, sys: realSystem(config.tools) };
}

beforeEach(async () => {
  dir = join(root, String(++n));
  mkdirSync(join(dir, "bay"), { recursive: true });
  writeFileSync(join(dir, "catalog"), "");
  writeFileSync(join(dir, "stdin"), "");
  await initMagazine(context(), 1, join(dir, "bay"), {
    volumes: 3,
    force: false,
  });
});

const stdin = () => readFileSync(join(dir, "stdin"), "utf8");

describe("refresh and the catalog", () => {
  test("labels every volume the catalog lacks into the pool, names quoted; a pool with a space one slot a command", async () => {
    fakeDirector();
    appendFileSync(join(dir, "catalog"), "c_0001_0001\n");
    const ctx = context({ pool: "Offsite Pool", storage: "usb-sd", drive: 1 });
    const outcome = await refreshBacula(ctx, { force: false });
    expect(stdin()).toBe(
      'update slots storage="usb-sd" drive=1\nlist volumes pool="Offsite Pool"\nlist volumes\nstatus storage="usb-sd"\nquit\n' +
        // Bacula 9.6.7 garbles a spaced pool name after a command's first volume.
        'label barcodes storage="usb-sd" pool="Offsite Pool" drive=1 slots=2\nyes\nlabel barcodes storage="usb-sd" pool="Offsite Pool" drive=1 slots=3\nyes\nlist volumes\nquit\n',
    );
    expect(outcome.unlabeled).toEqual([]);
    expect(refreshReport(ctx, outcome)).toBe(
      'Bacula updated (the volumes in the changer changed): update slots storage="usb-sd" drive=1; label barcodes storage="usb-sd" pool="Offsite Pool" drive=1 slots=2; label barcodes storage="usb-sd" pool="Offsite Pool" drive=1 slots=3\n',
    );
  });

  test("without a pool it warns how many are unlabeled; once pool is set, refresh labels them", async () => {
    fakeDirector();
    const bare = context();
    const first = await refreshBacula(bare, { force: false });
    expect(first.unlabeled).toEqual(VOLUMES);
    const warn =
      'WARN: 3 volumes are not labeled in Bacula; set [bacula] pool in /etc/magchanger/c.toml and run `magchanger refresh -c /etc/magchanger/c.toml` (or run `label barcodes storage="c" pool=POOL drive=0` then `yes` in bconsole)\n';
    expect(refreshReport(bare, first)).toBe(
      `Bacula updated (the volumes in the changer changed): update slots storage="c" drive=0\n${warn}`,
    );
    // Nothing changed: no bconsole, but still the warning (from refresh.json).
    const again = await refreshBacula(bare, { force: false });
    expect(refreshReport(bare, again)).toBe(
      `nothing to do: Bacula already has the current view\n${warn}`,
    );
    expect(unlabeledAtLastRefresh(bare)).toEqual(VOLUMES);
    // `magazine list` prints the same, from refresh.json (no bconsole).
    expect(labelWarning(bare)).toBe(
      `${warn.trimEnd()} (at the last refresh)\n`,
    );
    const pooled = context({ pool: "Offsite" });
    const labeled = await refreshBacula(pooled, { force: false });
    expect(refreshReport(pooled, labeled)).toBe(
      'Bacula updated (volumes are not labeled in Bacula): update slots storage="c" drive=0; label barcodes storage="c" pool="Offsite" drive=0 slots=1-3\n',
    );
    expect(unlabeledAtLastRefresh(pooled)).toEqual([]);
    expect(labelWarning(pooled)).toBeUndefined();
    expect(
      refreshReport(pooled, await refreshBacula(pooled, { force: false })),
    ).toBe("nothing to do: Bacula already has the current view\n");
  });

  test("a volume with content that the catalog lacks is not labeled, and does not make every refresh run bconsole", async () => {
    fakeDirector();
    writeFileSync(join(dir, "bay", "c_0001_0003"), "someone else's label");
    const ctx = context({ pool: "P" });
    expect(await refreshBacula(ctx, { force: false })).toMatchObject({
      commands: [
        'update slots storage="c" drive=0',
        'label barcodes storage="c" pool="P" drive=0 slots=1-2',
      ],
      unlabeled: [],
      withData: ["c_0001_0003"],
    });
    const again = await refreshBacula(ctx, { force: false });
    // Its label makes `label barcodes` fail "already labeled" (Bacula 9.6.7): not the fix to give.
    expect(refreshReport(ctx, again)).toBe(
      'nothing to do: Bacula already has the current view\nWARN: 1 volume holds data but is not in Bacula\'s catalog (c_0001_0003): `label barcodes` refuses it ("already labeled"), so refresh leaves it alone; to keep its backups, read it into the catalog with bscan (package bacula-bscan); to reuse one, empty its file on the disk (`truncate -s 0 MOUNT_POINT/VOLUME`, which erases its backups) and run `magchanger refresh -c /etc/magchanger/c.toml`, which labels it into pool "P"\n',
    );
    expect(stdin()).not.toContain(
      'label barcodes storage="c" pool="P" drive=0 slots=3',
    );
  });

  test("--force labels what the catalog lacks too", async () => {
    fakeDirector();
    await refreshBacula(context(), { force: false });
    const forced = await refreshBacula(context({ pool: "P" }), {
      force: true,
    });
    expect(forced).toMatchObject({
      commands: [
        'update slots storage="c" drive=0',
        'label barcodes storage="c" pool="P" drive=0 slots=1-3',
      ],
      unlabeled: [],
    });
  });

  test("a Pool the Director lacks fails before label barcodes, with the fix", async () => {
    fakeDirector(
      `grep -q 'pool="Offsite"' <<<"$in" && echo 'Could not find Pool "Offsite": ERR=Pool record not found in Catalog.'`,
    );
    await expect(
      refreshBacula(context({ pool: "Offsite" }), { force: false }),
    ).rejects.toThrow(
      'bconsole reported a failure: Could not find Pool "Offsite": ERR=Pool record not found in Catalog.; define Pool "Offsite" in bacula-dir.conf (then `reload` in bconsole), or set [bacula] pool in /etc/magchanger/c.toml to a Pool that exists',
    );
    expect(stdin()).not.toContain("label barcodes");
  });

  const blocked = (volume: string) =>
    fakeDirector(`grep -q '^status storage' <<<"$in" && cat <<'X'
Device File: "c-drive0" (/var/lib/magchanger/c/drive0) is not open.
   Drive 0 is not loaded.
Device File: "c-drive1" (/var/lib/magchanger/c/drive1) is not open.
    Device is BLOCKED waiting for mount of volume "${volume}",
       Pool:        Offsite
X`);

  test("a job BLOCKED waiting for a volume now in the changer: refresh mounts the drive (resume)", async () => {
    blocked("c_0001_0002");
    const ctx = context({ pool: "Offsite" });
    const outcome = await refreshBacula(ctx, { force: false });
    expect(refreshReport(ctx, outcome).split("\n").slice(1)).toEqual([
      'resumed drive 1: a job waited for volume "c_0001_0002" (slot 2): mount storage="c" drive=1 slot=2',
      "",
    ]);
    expect(stdin()).toContain('mount storage="c" drive=1 slot=2\n');
  });

  test("a job BLOCKED waiting for a volume not in the changer: refresh says to mount the drive once its disk is in", async () => {
    blocked("c_0009_0001");
    const ctx = context({ pool: "Offsite" });
    const outcome = await refreshBacula(ctx, { force: false });
    expect(refreshReport(ctx, outcome).split("\n").slice(1)).toEqual([
      'a job is waiting for volume "c_0009_0001" on drive 1: once its disk is in, run `mount storage="c" drive=1` in bconsole (update slots alone does not wake it)',
      "",
    ]);
    expect(stdin()).not.toContain("mount storage");
  });
});
