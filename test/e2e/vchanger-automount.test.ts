// vchanger 0.8's automount_dir under a real automount: a `magazine = UUID:...` disk is mounted by
// autofs at AUTOMOUNT_DIR/UUID only when that path is opened. The changer opens it first, as
// vchanger 0.8.6 did, so the magazine is found (and adopted) even after autofs expired it.
import { skipUnless } from "../helpers/capabilities.ts";
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  setDefaultTimeout,
  test,
} from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { barcode, listOutput } from "../helpers/changer.ts";
import { expectSuccess } from "../helpers/expect.ts";
import {
  createLoopFs,
  destroyAllLoopFs,
  type LoopFs,
} from "../helpers/loop.ts";
import {
  type Automount,
  mountAt,
  startAutomount,
  until,
} from "../helpers/automount.ts";
import { BASE_ENV, runBinary, tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  make08Magazine,
  volumeData,
  writeConf08,
} from "../helpers/vchanger.ts";

setDefaultTimeout(60_000);
const EXPIRE_SECONDS = 2;

const SUITE = "vchanger 0.8 automount_dir (real automount)";

describe.skipIf(skipUnless(["automount"], SUITE))(SUITE, () => {
  let root = "";
  let auto = "";
  let conf = "";
  let uuid = "";
  let disk: LoopFs;
  let automount: Automount | undefined;
  const vols = [1, 2, 3].map((v) => barcode("amc", 3, v));

  beforeAll(async () => {
    root = makeTempDir("vchanger-automount");
    auto = join(root, "auto");
    mkdirSync(auto);
    disk = createLoopFs(root, "disk");
    disk.mount(join(root, "setup"));
    make08Magazine(join(root, "setup"), {
      changer: "amc",
      number: 3,
      volumes: 3,
    });
    disk.unmount();
    uuid = tool(["blkid", "-s", "UUID", "-o", "value", disk.device]).trim();
    const map = join(root, "auto.amc");
    writeFileSync(map, `${uuid} -fstype=ext4,rw :${disk.device}\n`);
    const master = join(root, "auto.master");
    writeFileSync(master, `${auto} file:${map} --timeout=${EXPIRE_SECONDS}\n`);
    conf = writeConf08(join(root, "vchanger.conf"), {
      name: "amc",
      workDir: join(root, "work"),
      logFile: join(root, "amc.log"),
      automountDir: auto,
      magazines: [`UUID:${uuid}`],
    });
    mkdirSync(join(root, "work"));
    automount = await startAutomount(master, auto, root, BASE_ENV);
  });

  afterAll(async () => {
    await automount?.stop(auto ? [join(auto, uuid), auto] : []);
    destroyAllLoopFs();
    if (root) removeTempDir(root);
  });

  test("an unmounted UUID magazine is mounted through automount_dir, adopted and loaded", async () => {
    expect(mountAt(join(auto, uuid))).toBeUndefined();
    const device = join(root, "work", "0", "drive0");
    expectSuccess(
      await runBinary([conf, "list", "0", device, "0"]),
      listOutput(3, { 1: vols[0], 2: vols[1], 3: vols[2] } as Record<
        number,
        string
      >),
    );
    expect(mountAt(join(auto, uuid))?.fsType).toBe("ext4");
    await until(
      "autofs to expire the idle mount",
      () => mountAt(join(auto, uuid)) === undefined,
      EXPIRE_SECONDS + 15,
    );
    expectSuccess(await runBinary([conf, "load", "2", device, "0"]));
    expect(readFileSync(device, "utf8")).toBe(volumeData(vols[1] as string));
  });
});
