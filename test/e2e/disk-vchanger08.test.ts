// vchanger 0.8's bookkeeping files on a disk (index, loadedN) are the disk owner's text, read by
// the adoption scan under the changer lock (DESIGN property 9, items 5 and 8 of the root-paths
// issue): a FIFO never hangs the scan, a link to a root-only file is never read, and control
// characters in them never reach the log or a terminal raw. vchanger 0.8's config runs as root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "../helpers/attacker.ts";
import {
  expectPrintable,
  expectQuick,
  makeSecretFile,
  QUICK,
  SECRET,
} from "../helpers/hostile-disk.ts";
import { createLoopFs, destroyAllLoopFs } from "../helpers/loop.ts";
import { runBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { writeConf08 } from "../helpers/vchanger.ts";
import { skipUnless } from "../helpers/capabilities.ts";

const skipReason = skipUnless(
  ["loop", "tool:useradd", "tool:setpriv"],
  "vchanger 0.8 hostile disk tests",
)
  ? "skip"
  : undefined;

describe.skipIf(skipReason !== undefined)(
  "a vchanger 0.8 magazine with planted bookkeeping files (ext4 loop disk, root, vchanger's form)",
  () => {
    let dir = "";
    let bay = "";
    let conf = "";
    let logFile = "";
    let secretFile = "";
    let attacker: Attacker | undefined;
    const plant = (argv: string[]) => (attacker as Attacker).run(argv);
    const log = () => readFileSync(logFile, "utf8");
    const clearBay = () => {
      for (const name of readdirSync(bay))
        if (name !== "lost+found")
          rmSync(join(bay, name), { recursive: true, force: true });
    };

    beforeAll(() => {
      dir = makeTempDir("disk-vchanger08");
      attacker = createAttacker();
      bay = join(dir, "bay");
      mkdirSync(bay);
      secretFile = makeSecretFile(dir, "_0001");
      createLoopFs(dir, "dc08-disk", {
        owner: { uid: attacker.uid, gid: attacker.gid },
      }).mount(bay);
      logFile = join(dir, "vchanger.log");
      mkdirSync(join(dir, "work"));
      conf = writeConf08(join(dir, "vchanger.conf"), {
        name: "usbchanger1",
        workDir: join(dir, "work"),
        logFile,
        magazines: [bay],
      });
    });

    afterAll(() => {
      destroyAllLoopFs();
      attacker?.remove();
      if (dir) removeTempDir(dir);
    });

    test("index as a FIFO or a link to a root-only file: the scan finishes and shows nothing of it", async () => {
      plant(["mkfifo", "--", join(bay, "index")]);
      const first = await runBinary([conf, "list"], QUICK);
      expectQuick(first);
      expect(first.exitCode).toBe(0);
      clearBay();
      plant(["ln", "-s", secretFile, join(bay, "index")]);
      const second = await runBinary([conf, "list"], QUICK);
      expectQuick(second);
      const listed = await runBinary(["magazine", "list", "-c", conf], QUICK);
      expectQuick(listed);
      const text =
        second.stdout + second.stderr + listed.stdout + listed.stderr;
      expect(text + log()).not.toContain(SECRET);
      clearBay();
    });

    test("index text with control characters is reported escaped, never raw", async () => {
      plant([
        "sh",
        "-c",
        `printf '\\033[2J\\nFORGED\\a' > "$1/index"`,
        "sh",
        bay,
      ]);
      const scan = await runBinary([conf, "list"], QUICK);
      expectQuick(scan);
      const listed = await runBinary(["magazine", "list", "-c", conf], QUICK);
      expect(log()).toContain("index holds");
      expectPrintable(
        scan.stdout,
        scan.stderr,
        listed.stdout,
        listed.stderr,
        log(),
      );
      clearBay();
    });

    test("loadedN as a FIFO never hangs the adoption scan; the magazine is still adopted", async () => {
      plant([
        "sh",
        "-c",
        `printf usbchanger1_0001 > "$1/index"; echo data > "$1/drive0"; mkfifo "$1/loaded0"`,
        "sh",
        bay,
      ]);
      const result = await runBinary([conf, "list"], QUICK);
      expectQuick(result);
      expect(result.exitCode).toBe(0);
      expect(readdirSync(bay).some((n) => n.startsWith(".magchanger-"))).toBe(
        true,
      );
      expect(log()).toMatch(/loaded0 names no volume/);
    });
  },
);
