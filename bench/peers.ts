// The changers magchanger is measured against in the same run, over the same number of volumes:
// Bacula's own `disk-changer` script (bacula-sd ships it, so every machine here has it) and,
// when VCHANGER=/path/to/vchanger is given, vchanger 1.0 on the same volume files as
// magchanger's bays. Each peer gets its own state directory owned by the run-as user and is
// called exactly as the storage daemon calls it (`%c %o %S %a %d`).
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Changer, createChanger, run } from "./fixture.ts";
import { type RunAs, spawnIds } from "./identity.ts";
import type { Command, Step } from "./measure.ts";

/** Where Debian's bacula-common puts the script (`dpkg -L bacula-common | grep disk-changer`). */
export const DISK_CHANGER_PATHS = [
  "/etc/bacula/scripts/disk-changer",
  "/usr/lib/bacula/scripts/disk-changer",
  "/usr/libexec/bacula/disk-changer",
];

export interface Peer {
  name: string;
  /** What the peer is, for the report's environment list. */
  describe: string;
  /** Its bare start-up: the same process doing nothing (for "own work"). */
  floor: Step;
  /** Builds its state for one changer and returns the protocol commands to time. */
  prepare(c: Changer, loadedSlot: number, runAs: RunAs): Command[];
}

const lineCount = (want: number) => (out: string) => {
  const got = out.split("\n").length - 1;
  return got === want ? undefined : `printed ${got} lines, expected ${want}`;
};
const exactly = (want: string) => (out: string) =>
  out === want
    ? undefined
    : `printed "${out.slice(0, 40)}", expected "${want}"`;

/**
 * `loaded` as root through vchanger's `-u USER -g GROUP` form (an SD running as root), for a
 * magchanger binary, when the bench switches users (--as).
 */
export function rootLoaded(
  binary: string,
  conf: string,
  workDir: string,
  loadedSlot: number,
  runAs: RunAs,
): Command[] {
  if (!runAs.ids) return [];
  return [
    {
      name: "loaded as root -u/-g",
      steps: [
        {
          argv: [
            binary,
            "-u",
            runAs.user,
            "-g",
            runAs.group,
            conf,
            "loaded",
            "0",
            join(workDir, "drive0"),
            "0",
          ],
          check: exactly(`${loadedSlot}\n`),
        },
      ],
    },
  ];
}

/** The commands every changer is timed on, as the SD would run them. */
export function protocolCommands(
  changer: string[],
  c: Changer,
  loadedSlot: number,
  drive: (n: number) => string,
  /** Undefined: not checked (disk-changer drops a loaded slot's line, vchanger varies). */
  listallLines: number | undefined,
): Command[] {
  // The volume load+unload moves lives on the last magazine (the last bay locateMagazine tries).
  const pairSlot = c.volumes;
  // As the SD runs it (`%c %o %S %a %d`): every command gets slot, archive device and drive.
  const sd = (command: string) => [...changer, command, "0", drive(0), "0"];
  return [
    {
      name: "list",
      steps: [{ argv: sd("list"), check: lineCount(c.volumes) }],
    },
    {
      name: "listall",
      steps: [
        {
          argv: sd("listall"),
          ...(listallLines === undefined
            ? {}
            : { check: lineCount(listallLines) }),
        },
      ],
    },
    {
      name: "loaded",
      steps: [
        {
          argv: [...changer, "loaded", "0", drive(0), "0"],
          check: exactly(`${loadedSlot}\n`),
        },
      ],
    },
    {
      name: "load+unload",
      steps: [
        {
          argv: [...changer, "load", String(pairSlot), drive(1), "1"],
          check: exactly(""),
        },
        {
          argv: [...changer, "unload", String(pairSlot), drive(1), "1"],
          check: exactly(""),
        },
      ],
    },
    {
      name: "slots",
      steps: [{ argv: sd("slots"), check: exactly(`${c.volumes}\n`) }],
    },
  ];
}

function chownTo(runAs: RunAs, ...paths: string[]): void {
  if (runAs.ids)
    run(["chown", "-R", `${runAs.ids.uid}:${runAs.ids.gid}`, ...paths]);
}

/**
 * Bacula's disk-changer: a `barcodes` file of `slot:volume` lines, `slotN` volume files and
 * `loadedN` drive files in the directory of the Archive Device; the Changer Device is a shell
 * fragment setting maxslot and maxdrive.
 */
export function diskChanger(script: string): Peer {
  return {
    name: "disk-changer",
    describe: `Bacula's disk-changer (${script}, /bin/sh)`,
    floor: { argv: ["/bin/sh", "-c", ":"] },
    prepare(c, loadedSlot, runAs) {
      const dir = join(c.dir, "disk-changer");
      mkdirSync(dir);
      chmodSync(dir, 0o755);
      const conf = join(dir, "conf");
      writeFileSync(conf, `maxslot=${c.volumes}\nmaxdrive=1\n`);
      const lines: string[] = [];
      for (let slot = 1; slot <= c.volumes; slot++) {
        lines.push(`${slot}:bench_${String(slot).padStart(6, "0")}`);
        closeSync(openSync(join(dir, `slot${slot}`), "wx"));
      }
      writeFileSync(join(dir, "barcodes"), `${lines.join("\n")}\n`);
      writeFileSync(join(dir, "loaded0"), `${loadedSlot}\n`);
      writeFileSync(join(dir, "loaded1"), "0\n");
      chownTo(runAs, dir);
      return protocolCommands(
        [script, conf],
        c,
        loadedSlot,
        (n) => join(dir, `drive${n}`),
        undefined,
      ).map((command) => ({ ...command, ids: spawnIds(runAs) }));
    },
  };
}

/**
 * vchanger 1.0 over magchanger's own bays (the same volume files): a vchanger.conf naming
 * each bay as a Magazine directory, its own work dir (drives are WORK_DIR/N), no bconsole.
 * Not installed on the machines this was written on: the code path exists for a machine
 * that has it (`VCHANGER=/usr/local/bin/vchanger bun run bench`).
 */
export function vchanger(binary: string): Peer {
  return {
    name: "vchanger",
    describe: `vchanger (${binary})`,
    floor: { argv: [binary, "--version"] },
    prepare(c, loadedSlot, runAs) {
      const dir = join(c.dir, "vchanger");
      const work = join(dir, "work");
      mkdirSync(work, { recursive: true });
      chmodSync(dir, 0o755);
      const conf = join(dir, "vchanger.conf");
      const bays = c.bays.map((bay) => `Magazine = "${bay}"`);
      writeFileSync(
        conf,
        [
          `Storage Resource = "benchvc"`,
          `User = "${runAs.user}"`,
          `Group = "${runAs.group}"`,
          `Work Directory = "${work}"`,
          `Logfile = "${join(dir, "vchanger.log")}"`,
          "Log Level = 3",
          `bconsole = ""`,
          ...bays,
          "",
        ].join("\n"),
      );
      chownTo(runAs, dir);
      const changer = [binary, conf];
      const drive = (n: number) => join(work, String(n));
      const ids = spawnIds(runAs);
      // vchanger numbers the volumes itself: load the middle slot into drive 0 through it.
      run([...changer, "list"], runAs);
      run([...changer, "load", String(loadedSlot), drive(0), "0"], runAs);
      return protocolCommands(changer, c, loadedSlot, drive, undefined).map(
        (command) => ({ ...command, ids }),
      );
    },
  };
}

export function findDiskChanger(): string | undefined {
  return DISK_CHANGER_PATHS.find((path) => existsSync(path));
}

/**
 * Another build of magchanger (MAGCHANGER_PEER=/path, e.g. the main branch's) on a changer of
 * its own with the same volumes: each build keeps its own validated-config and listing caches,
 * as it would on a host.
 */
export function otherBuild(binary: string): Peer {
  return {
    name: "peer build",
    describe: `magchanger ${run([binary, "--version"]).trim()} (${binary})`,
    floor: { argv: [binary, "--version"] },
    prepare(c, loadedSlot, runAs) {
      const own = createChanger(
        c.dir,
        binary,
        c.volumes,
        c.magazines,
        runAs,
        "peer-build",
      );
      run(
        [binary, "changer", own.conf, "load", String(loadedSlot), "", "0"],
        runAs,
      );
      return [
        ...protocolCommands(
          [binary, "changer", own.conf],
          own,
          loadedSlot,
          (n) => join(own.workDir, `drive${n}`),
          own.volumes + 2,
        ).map((command) => ({ ...command, ids: spawnIds(runAs) })),
        ...rootLoaded(binary, own.conf, own.workDir, loadedSlot, runAs),
      ];
    },
  };
}
