// Every Bacula changer protocol command and edge case of issue 2, against the compiled binary,
// with the exact output the storage daemon parses. Magazines are plain directories here
// (allow_unmounted); the mounted-disk cases are in changer-absent.test.ts.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { serializeRegistry } from "../../src/state/registry.ts";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import { expectFailure, expectSuccess } from "../helpers/expect.ts";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeTempDir(dir);
});

let changer: TestChanger;
let bay: string;
let volumes: string[];

/** A hole at slot 2, as after Bacula was told its volume is gone: no volume, not retired. */
function makeHoleAtSlot2(): void {
  const registry = changer.readRegistry();
  const entry = registry.slots.get(2);
  registry.slots.delete(2);
  if (entry) registry.byBarcode.delete(entry.barcode);
  writeFileSync(join(changer.workDir, "slots"), serializeRegistry(registry));
  rmSync(join(bay, volumes[1] as string));
}

async function freshChanger(drives = 2, count = 4): Promise<void> {
  const dir = makeTempDir("protocol");
  dirs.push(dir);
  bay = join(dir, "bay1");
  mkdirSync(bay);
  changer = new TestChanger(dir, {
    name: "pc1",
    drives,
    bays: [{ path: bay, allowUnmounted: true }],
  });
  volumes = await changer.init(1, count);
}

describe("changer protocol commands", () => {
  beforeEach(() => freshChanger());

  test("list prints slot:barcode for every slot in slot order", async () => {
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, slotsOf(volumes)),
    );
  });

  test("slots prints the number of slots alone on the first line", async () => {
    expectSuccess(await changer.sd("slots", 0, 0), "4\n");
  });

  test("loaded prints 0 for an empty drive and the slot after a load", async () => {
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
    expectSuccess(await changer.sd("load", 3, 1));
    expectSuccess(await changer.sd("loaded", 3, 1), "3\n");
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
  });

  test("load points the drive's archive device at the volume file; unload points it nowhere", async () => {
    expectSuccess(await changer.sd("load", 2, 0));
    expect(realpathSync(changer.driveLink(0))).toBe(
      join(bay, volumes[1] as string),
    );
    expectSuccess(await changer.sd("unload", 2, 0));
    expect(readlinkSync(changer.driveLink(0))).toBe(
      "/dev/null/magchanger-drive-0-is-empty",
    );
    expect(() => openSync(changer.driveLink(0), "a")).toThrow(/ENOTDIR|ENOENT/);
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
  });

  test("listall prints drives then slots, a slot in a drive as S:n:E", async () => {
    expectSuccess(await changer.sd("load", 2, 1));
    const [v1, v2, v3, v4] = volumes;
    expectSuccess(
      await changer.sd("listall", 0, 0),
      `D:0:E\nD:1:F:2:${v2}\nS:1:F:${v1}\nS:2:E\nS:3:F:${v3}\nS:4:F:${v4}\n`,
    );
  });

  test("list still shows a loaded volume under its home slot", async () => {
    expectSuccess(await changer.sd("load", 2, 1));
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, slotsOf(volumes)),
    );
  });

  test("load of the slot already in that drive succeeds and prints nothing", async () => {
    expectSuccess(await changer.sd("load", 2, 0));
    expectSuccess(await changer.sd("load", 2, 0));
    expectSuccess(await changer.sd("loaded", 0, 0), "2\n");
  });

  test("load of a slot held by another drive fails naming that drive and changes nothing", async () => {
    expectSuccess(await changer.sd("load", 2, 0));
    expectFailure(
      await changer.sd("load", 2, 1),
      1,
      "slot 2 is already loaded in drive 0; unload drive 0 first",
    );
    expectSuccess(await changer.sd("loaded", 0, 1), "0\n");
    expectSuccess(await changer.sd("loaded", 0, 0), "2\n");
  });

  test("load into a full drive replaces its volume", async () => {
    expectSuccess(await changer.sd("load", 1, 0));
    expectSuccess(await changer.sd("load", 4, 0));
    expectSuccess(await changer.sd("loaded", 0, 0), "4\n");
    expect(realpathSync(changer.driveLink(0))).toBe(
      join(bay, volumes[3] as string),
    );
  });

  test("load of a slot whose volume file is gone fails with Source Element Address N is Empty", async () => {
    rmSync(join(bay, volumes[2] as string));
    expectFailure(
      await changer.sd("load", 3, 0),
      1,
      `Source Element Address 3 is Empty (volume ${volumes[2]} is missing from magazine 1 (ENOENT))`,
    );
    // Once a scan has seen it gone, the slot is retired (kept empty, not reused).
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, { ...slotsOf(volumes), 3: "" }),
    );
    expectFailure(
      await changer.sd("load", 3, 0),
      1,
      `Source Element Address 3 is Empty (volume ${volumes[2]} was removed from its magazine)`,
    );
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
  });

  test("load of a slot no volume has fails with Source Element Address N is Empty", async () => {
    makeHoleAtSlot2();
    expectFailure(
      await changer.sd("load", 2, 0),
      1,
      "Source Element Address 2 is Empty (no volume has this slot)",
    );
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, { ...slotsOf(volumes), 2: "" }),
    );
  });

  test("load of a slot on a magazine that is not attached fails with Source Element Address N is Empty", async () => {
    renameSync(bay, `${bay}.away`);
    expectFailure(
      await changer.sd("load", 1, 0),
      1,
      `Source Element Address 1 is Empty (volume ${volumes[0]} is on magazine 1, which is not attached)`,
    );
    expectSuccess(await changer.sd("list", 0, 0), listOutput(4, {}));
    renameSync(`${bay}.away`, bay);
    expectSuccess(await changer.sd("load", 1, 0));
  });

  test("load of an out-of-range slot fails", async () => {
    expectFailure(
      await changer.sd("load", 5, 0),
      1,
      "slot 5 is out of range: the changer has slots 1..4",
    );
    expectFailure(
      await changer.sd("load", 0, 0),
      1,
      "slot 0 is out of range: the changer has slots 1..4",
    );
    expectFailure(
      await changer.run(["load", "x", changer.driveLink(0), "0"]),
      2,
      'slot must be a number, got "x"',
    );
    expectFailure(
      await changer.run(["load"]),
      2,
      "slot must be a number, got nothing",
    );
  });

  test("load and unload of an out-of-range drive fail; loaded of one prints 0 (disk-changer fails there)", async () => {
    const line =
      "drive 2 is out of range: changer pc1 has drives 0..1 (config key drives)";
    expectFailure(await changer.sd("load", 1, 2), 1, line);
    expectFailure(await changer.sd("unload", 1, 2), 1, line);
    expectSuccess(await changer.sd("loaded", 0, 2), "0\n");
    expectFailure(
      await changer.run(["loaded", "0", "/dev/x", "-1"]),
      2,
      'drive index must be a number, got "-1"',
    );
  });

  test("unload of an empty drive succeeds and prints nothing", async () => {
    expectSuccess(await changer.sd("unload", 0, 1));
    expectSuccess(await changer.sd("unload", 3, 1));
    expect(readlinkSync(changer.driveLink(1))).toBe(
      "/dev/null/magchanger-drive-1-is-empty",
    );
  });

  test("unload empties the drive even when Bacula names another slot", async () => {
    expectSuccess(await changer.sd("load", 2, 0));
    expectSuccess(await changer.sd("unload", 3, 0));
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
  });

  test("extra arguments are ignored", async () => {
    const extra = ["job-name", "client-fd", "Vol0001"];
    expectSuccess(
      await changer.run(["load", "2", changer.driveLink(1), "1", ...extra]),
    );
    expectSuccess(
      await changer.run(["loaded", "2", changer.driveLink(1), "1", ...extra]),
      "2\n",
    );
    expectSuccess(
      await changer.run(["list", "0", changer.driveLink(1), "1", ...extra]),
      listOutput(4, slotsOf(volumes)),
    );
    expectSuccess(
      await changer.run(["slots", "0", changer.driveLink(1), "1", ...extra]),
      "4\n",
    );
    expectSuccess(
      await changer.run(["unload", "2", changer.driveLink(1), "1", ...extra]),
    );
  });

  test("command names are case-insensitive", async () => {
    expectSuccess(await changer.sd("LOAD", 2, 0));
    expectSuccess(await changer.sd("Loaded", 2, 0), "2\n");
    expectSuccess(await changer.sd("SLOTS", 0, 0), "4\n");
    expectSuccess(
      await changer.sd("List", 0, 0),
      listOutput(4, slotsOf(volumes)),
    );
    const [v1, v2, v3, v4] = volumes;
    expectSuccess(
      await changer.sd("ListAll", 0, 0),
      `D:0:F:2:${v2}\nD:1:E\nS:1:F:${v1}\nS:2:E\nS:3:F:${v3}\nS:4:F:${v4}\n`,
    );
    expectSuccess(await changer.sd("UnLoad", 2, 0));
    expectSuccess(await changer.sd("LOADED", 0, 0), "0\n");
  });

  test("an empty %S or %d expansion shifts the arguments; the drive is still found", async () => {
    // %d empty: "load 3 ARCHIVE_DEVICE" -- the archive device names the drive.
    expectSuccess(await changer.run(["load", "3", changer.driveLink(1)]));
    expectSuccess(
      await changer.run(["loaded", "0", changer.driveLink(1)]),
      "3\n",
    );
    // %S empty: "loaded ARCHIVE_DEVICE 1" -- the drive index moved into the device position.
    expectSuccess(
      await changer.run(["loaded", changer.driveLink(1), "1"]),
      "3\n",
    );
    expectSuccess(await changer.run(["unload", changer.driveLink(1), "1"]));
    expectSuccess(
      await changer.run(["loaded", "0", changer.driveLink(1)]),
      "0\n",
    );
  });

  test("with %d empty, vchanger's drive paths WORK_DIR/N and WORK_DIR/N/driveN name drive N", async () => {
    expectSuccess(await changer.sd("load", 3, 1));
    expectSuccess(
      await changer.run(["loaded", "0", join(changer.workDir, "1")]),
      "3\n",
    );
    expectSuccess(
      await changer.run(["loaded", "0", join(changer.workDir, "1", "drive1")]),
      "3\n",
    );
  });

  test("transfer moves a volume to an empty slot; an occupied, retired, loaded or out-of-range one is refused", async () => {
    makeHoleAtSlot2();
    rmSync(join(bay, volumes[3] as string));
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, { 1: volumes[0] as string, 3: volumes[2] as string }),
    );
    // Bareos and Baculum: transfer SOURCE DESTINATION, the destination where %a goes.
    expectFailure(
      await changer.run(["transfer", "1", "4"]),
      1,
      `destination slot 4 is not empty: it belongs to volume ${volumes[3]}`,
    );
    expectFailure(
      await changer.run(["transfer", "1", "3"]),
      1,
      `destination slot 3 is not empty: it belongs to volume ${volumes[2]}`,
    );
    expectFailure(
      await changer.run(["transfer", "1", "9"]),
      1,
      "destination slot 9 is out of range: the changer has slots 1..4",
    );
    expectFailure(
      await changer.run(["transfer", "2", "1"]),
      1,
      "Source Element Address 2 is Empty (no volume has this slot)",
    );
    expectSuccess(await changer.sd("load", 1, 0));
    expectFailure(
      await changer.run(["transfer", "1", "2"]),
      1,
      "slot 1 is loaded in drive 0; unload it before a transfer",
    );
    expectSuccess(await changer.sd("unload", 1, 0));
    expectSuccess(await changer.run(["transfer", "1", "2", "0"]));
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, { 2: volumes[0] as string, 3: volumes[2] as string }),
    );
    expectSuccess(await changer.sd("load", 2, 0));
    expect(realpathSync(changer.driveLink(0))).toBe(
      join(bay, volumes[0] as string),
    );
  });

  test("files that are not legal barcodes are never volumes", async () => {
    for (const name of ["read me.txt", "a:b", ".hidden", "x".repeat(128)])
      writeFileSync(join(bay, name), "");
    mkdirSync(join(bay, "subdir"));
    expectSuccess(
      await changer.sd("list", 0, 0),
      listOutput(4, slotsOf(volumes)),
    );
    expectSuccess(await changer.sd("slots", 0, 0), "4\n");
  });

  test("an unknown command fails with exit 2 and one line on stderr, nothing on stdout", async () => {
    expectFailure(
      await changer.run(["mount", "1", changer.driveLink(0), "0"]),
      2,
      'unknown changer command "mount"; use one of loaded, load, unload, list, listall, slots, transfer',
    );
    expectFailure(
      await changer.run([]),
      2,
      "changer: missing COMMAND; run `magchanger changer --help`",
    );
  });

  test("a missing config file fails with exit 3 naming the file", async () => {
    const missing = join(changer.dir, "nope.toml");
    const result = await runBinary([
      "changer",
      missing,
      "loaded",
      "0",
      "/dev/x",
      "0",
    ]);
    expectFailure(
      result,
      3,
      new RegExp(`^magchanger: cannot read config ${missing}: ENOENT`),
    );
  });

  test("the vchanger form takes the same commands, case-insensitive, with -u and -g", async () => {
    expectSuccess(
      await runBinary([
        "-u",
        "root",
        "-g",
        "root",
        changer.conf,
        "LOAD",
        "1",
        changer.driveLink(0),
        "0",
      ]),
    );
    expectSuccess(
      await runBinary([changer.conf, "loaded", "1", changer.driveLink(0), "0"]),
      "1\n",
    );
    expectSuccess(
      await runBinary([changer.conf, "List"]),
      listOutput(4, slotsOf(volumes)),
    );
  });
});

describe("a changer before any magazine is initialized", () => {
  test("slots prints 0, list prints nothing, loaded prints 0 and load says how to start", async () => {
    const dir = makeTempDir("protocol-empty");
    dirs.push(dir);
    const empty = new TestChanger(dir, {
      name: "pc0",
      drives: 1,
      bays: [{ path: join(dir, "bay"), allowUnmounted: true }],
    });
    expectSuccess(await empty.sd("slots", 0, 0), "0\n");
    expectSuccess(await empty.sd("list", 0, 0), "");
    expectSuccess(await empty.sd("loaded", 0, 0), "0\n");
    expectFailure(
      await empty.sd("load", 1, 0),
      1,
      "slot 1 is out of range: the changer has no slots yet; run `magchanger magazine init`",
    );
    expect(existsSync(join(dir, "bay"))).toBe(false);
  });
});

describe("the Archive Device Bacula names for the drive (%a)", () => {
  beforeEach(() => freshChanger());

  test("a load whose %a is not the drive's link fails naming the drive and the path to set; nothing is created there", async () => {
    const wrong = join(changer.workDir, "0");
    const result = await changer.run(["load", "1", wrong, "0"]);
    expectFailure(
      result,
      1,
      `drive 0: the storage daemon's Archive Device is ${wrong}, not this changer's drive link; set Archive Device = ${changer.driveLink(0)} in the Device with Drive Index = 0 (bacula-sd.conf) and restart bacula-sd`,
    );
    expect(existsSync(wrong)).toBe(false);
    expectSuccess(await changer.sd("loaded", 0, 0), "0\n");
  });

  test("a load whose %a is a link to the drive's link (vchanger's WORK_DIR/N) succeeds", async () => {
    const alias = join(changer.workDir, "0");
    symlinkSync("drive0", alias);
    expectSuccess(await changer.run(["load", "2", alias, "0"]));
    expectSuccess(await changer.sd("loaded", 0, 0), "2\n");
  });

  test("a load naming drive 1's link for drive 0 fails", async () => {
    expectFailure(
      await changer.run(["load", "1", changer.driveLink(1), "0"]),
      1,
      /^magchanger: drive 0: the storage daemon's Archive Device is .*drive1, not this changer's drive link/,
    );
  });
});

describe("one-line errors", () => {
  test("a newline or escape in an argument value is escaped, never a second line", async () => {
    await freshChanger();
    const result = await changer.run([
      "load",
      "1\nforged: line\x1b[2J",
      changer.driveLink(0),
      "0",
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'magchanger: slot must be a number, got "1\\nforged: line\\x1b[2J"\n',
    );
  });

  test("the changer form trims the command as the vchanger form does", async () => {
    await freshChanger();
    expectSuccess(
      await changer.run(["slots\n", "0", changer.driveLink(0), "0"]),
      "4\n",
    );
  });
});
