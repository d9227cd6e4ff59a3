// vchanger's command line against the compiled binary, with a vchanger 1.0 config and magazine
// (plain directories, as vchanger 1.0 used them): every vchanger command, any letter case, the
// exact output, vchanger's Archive Device path, and one-line errors that change nothing.
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fakeDirector } from "../helpers/fake-director.ts";
import { expectFailure, expectSuccess } from "../helpers/expect.ts";
import { runBinary } from "../helpers/run.ts";
import { snapshotDir } from "../helpers/state.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { make10Magazine, writeConf10 } from "../helpers/vchanger.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

interface Fixture {
  dir: string;
  conf: string;
  work: string;
  mag1: string;
  mag2: string;
  /** What the fake bconsole read on stdin, all runs appended. */
  bconsoleInput: () => string;
}

const VOLUMES = ["vc1_0_0001", "vc1_0_0002", "vc1_0_0003"];

/** vchanger 1.0's changer vc1: magazine 0 holds three volumes, magazine 1 is an empty directory. */
function fixture(withBconsole = true): Fixture {
  const dir = makeTempDir("vchanger-form");
  dirs.push(dir);
  const mag1 = join(dir, "mag1");
  const mag2 = join(dir, "mag2");
  const work = join(dir, "work");
  for (const d of [mag1, mag2, work]) mkdirSync(d);
  make10Magazine(mag1, VOLUMES);
  const director = fakeDirector(dir, [mag1, mag2]);
  const bconsole = director.path;
  const conf = writeConf10(join(dir, "vchanger.conf"), {
    name: "vc1",
    workDir: work,
    logFile: join(dir, "vc1.log"),
    magazines: [mag1, mag2],
    ...(withBconsole ? { bconsole } : {}),
  });
  return {
    dir,
    conf,
    work,
    mag1,
    mag2,
    bconsoleInput: director.input,
  };
}

const run = (f: Fixture, ...args: string[]) => runBinary([f.conf, ...args]);

describe("the vchanger command line", () => {
  test("Bacula's commands in any case; drive 0's Archive Device is vchanger 1.0's WORK_DIR/0", async () => {
    const f = fixture();
    const device = join(f.work, "0");
    const [v1, v2, v3] = VOLUMES;
    expectSuccess(await run(f, "LIST"), `1:${v1}\n2:${v2}\n3:${v3}\n`);
    expectSuccess(await run(f, "Slots"), "3\n");
    expectSuccess(await run(f, "loaded", "0", device, "0"), "0\n");
    expectSuccess(await run(f, "LOAD", "2", device, "0"));
    expect(realpathSync(device)).toBe(join(f.mag1, v2 as string));
    expectSuccess(await run(f, "LOADED", "2", device, "0"), "2\n");
    expectSuccess(
      await run(f, "listALL"),
      `D:0:F:2:${v2}\nS:1:F:${v1}\nS:2:E\nS:3:F:${v3}\n`,
    );
    expectSuccess(await run(f, "list"), `1:${v1}\n2:${v2}\n3:${v3}\n`);
    expectFailure(
      await run(f, "Transfer", "1", "3"),
      1,
      `destination slot 3 is not empty: it belongs to volume ${v3}`,
    );
    expectSuccess(await run(f, "unload", "2", device, "0"));
    expect(() => openSync(device, "a")).toThrow(/ENOTDIR|ENOENT/);
    expectSuccess(await run(f, "loaded", "0", device, "0"), "0\n");
    // Adopted as they were: the same names, and the bytes vchanger's Bacula wrote.
    for (const v of VOLUMES)
      expect(readFileSync(join(f.mag1, v), "utf8")).toBe(
        `bacula volume ${v}\n`,
      );
  });

  test("-u and -g stand anywhere, as with vchanger's getopt", async () => {
    const f = fixture();
    expectSuccess(
      await runBinary([f.conf, "-u", "root", "slots", "-groot"]),
      "3\n",
    );
    expectSuccess(
      await runBinary(["--user=root", f.conf, "--group", "root", "SLOTS"]),
      "3\n",
    );
  });

  test("LISTMAGS: N:slots:first slot:mount per magazine, N::: for a bay without one; INITMAG fills it", async () => {
    const f = fixture();
    expectSuccess(await run(f, "LISTMAGS"), `0:3:1:${f.mag1}\n1:::\n`);
    expectSuccess(
      await run(f, "initmag", "2"),
      `created magazine 2 in bay 2 [${f.mag2}]\n`,
    );
    expectSuccess(
      await run(f, "listmags"),
      `0:3:1:${f.mag1}\n1:10:4:${f.mag2}\n`,
    );
    expectFailure(
      await run(f, "INITMAG", "1"),
      1,
      "bay 1 (" +
        f.mag1 +
        ") already holds magazine 1, adopted from vchanger; add volumes with CREATEVOLS 0 COUNT",
    );
  });

  test("CREATEVOLS mag_ndx count creates, then tells Bacula once; REFRESH after it has nothing to do", async () => {
    const f = fixture();
    expectSuccess(
      await run(f, "CREATEVOLS", "0", "2"),
      "creating label 'vc1_0001_0001'\ncreating label 'vc1_0001_0002'\nCreated 2 volume files on magazine 0\n" +
        'Bacula updated (the volumes in the changer changed): update slots storage="vc1" drive=0; label barcodes storage="vc1" pool="Scratch" drive=0 slots=4-5\n',
    );
    expect(f.bconsoleInput()).toBe(
      'update slots storage="vc1" drive=0\nlist volumes pool="Scratch"\nlist volumes\nstatus storage="vc1"\nquit\n' +
        'label barcodes storage="vc1" pool="Scratch" drive=0 slots=4-5\nyes\nlist volumes\nquit\n',
    );
    expectSuccess(
      await run(f, "Refresh"),
      "nothing to do: Bacula already has the current view\n",
    );
    expectSuccess(
      await run(f, "REFRESH", "--force"),
      'Bacula updated (forced): update slots storage="vc1" drive=0\n',
    );
    expect(f.bconsoleInput().match(/^update slots/gm)).toHaveLength(2);
  });

  test('REFRESH with bconsole = "" sends nothing and says what to run', async () => {
    const f = fixture(false);
    expectSuccess(
      await run(f, "refresh"),
      `nothing sent to Bacula: bconsole is disabled in ${f.conf} (bconsole = ""); run \`update slots storage="vc1" drive=0\` in bconsole\n`,
    );
  });
});

describe("bad input to the vchanger form", () => {
  const cases: [string, string[], string][] = [
    [
      "CREATEVOLS start",
      ["CREATEVOLS", "0", "2", "5"],
      "CREATEVOLS start (5) is not supported: magchanger names volumes CHANGER_MMMM_NNNN after the magazine's highest number; leave it out",
    ],
    [
      "CREATEVOLS -l",
      ["createvols", "0", "2", "-l", "tape"],
      "CREATEVOLS -l is not supported: barcodes are CHANGER_MMMM_NNNN so they stay unique across magazines; leave it out",
    ],
    [
      "CREATEVOLS --pool",
      ["createvols", "0", "2", "--pool=Full"],
      "CREATEVOLS --pool is not supported: new volumes are labeled into the config's pool (Default Pool, or pool under [bacula]); leave it out",
    ],
    [
      "CREATEVOLS of a magazine index that does not exist",
      ["createvols", "2", "1"],
      "", // filled in below: names the config file
    ],
    [
      "CREATEVOLS without a count",
      ["createvols", "0"],
      "CREATEVOLS count must be a whole number 1..9999, got nothing",
    ],
    [
      "INITMAG -m",
      ["INITMAG", "2", "-m", "7"],
      "INITMAG -m is not supported: magchanger numbers magazines itself; leave it out",
    ],
    [
      "an option of another command",
      ["list", "--force"],
      "--force is an option of REFRESH only, not of LIST",
    ],
    [
      "an unknown option",
      ["list", "-x"],
      'unknown option "-x"; the vchanger form is: magchanger [-u USER] [-g GROUP] CONFIG COMMAND [SLOT] [DEVICE] [DRIVE]',
    ],
    [
      "an unknown command",
      ["mount"],
      'unknown changer command "mount"; use one of loaded, load, unload, list, listall, slots, transfer, listmags, createvols, refresh, initmag',
    ],
  ];
  test.each(cases)(
    "%s: exit 2, one line, nothing written",
    async (_what, args, message) => {
      const f = fixture();
      const before = snapshotDir(f.dir);
      expectFailure(
        await run(f, ...args),
        2,
        message ||
          `magazine index "2" does not exist: ${f.conf} has magazine indexes (LISTMAGS) 0..1`,
      );
      expect(snapshotDir(f.dir)).toEqual(before);
    },
  );
});
