// The one inventory of every file a command started as root opens, with who controls it, how
// root reaches it and the most it reads. The README's "Security boundary" prints this table
// (test/doctor/root-reads.test.ts keeps the two equal) and test/e2e/root-reads.test.ts walks it:
// for every entry someone other than root controls, an unprivileged user plants a FIFO, a link
// to /dev/zero, a link to a root-only file and a file far over the cap there, and every command
// listed must finish in time, print no byte of the root-only file and stay within the cap.
// The rule it records: what root does not control is read either after the drop to the run-as
// user or as root through the bounded reader (state/safe-fs.ts: no link followed, a regular file
// only, looked at before it is opened, capped); never plainly. Caps are the readers' own.
import { MAX_CACHE_BYTES } from "../changer/listing-cache.ts";
import { MAX_KNOWN_MAGAZINES_BYTES } from "../changer/known-magazines.ts";
import { MAX_NOTICED_BYTES } from "../changer/bay-events.ts";
import { MAX_ROTATION_TOLD_BYTES } from "../changer/rotation-events.ts";
import { MAX_DAEMON_CONFIG_BYTES } from "../bacula/conf.ts";
import { MAX_DAMAGED_BYTES } from "../bacula/damage.ts";
import { MAX_REFRESH_STATE_BYTES } from "../bacula/refresh-state.ts";
import { MAX_SPACE_WANTED_BYTES } from "../bacula/space-wanted.ts";
import { MAX_WANTED_BYTES } from "../bacula/waiting.ts";
import { MAX_CONFIG_BYTES } from "../config/read.ts";
import { IDENTITY_MAX_BYTES } from "../disk/identity.ts";
import { LINE_FILE_MAX_BYTES } from "../disk/vchanger08.ts";
import { MAX_ATTEMPT_BYTES } from "../events/deliver.ts";
import { MAX_LAST_FAILURE_BYTES } from "../events/emit.ts";
import { MAX_EVENT_BYTES } from "../events/queue.ts";
import { MAX_DRIVES_BYTES } from "../state/drives.ts";
import { MAX_REGISTRY_BYTES } from "../state/registry.ts";
import { MAX_READ_BYTES } from "../state/safe-fs.ts";
import { SUPERBLOCK_BYTES } from "../system/ext4.ts";
import { MAX_INSTALLED_BYTES } from "./files.ts";

/** The commands that run as root and open files (as `magchanger COMMAND`). */
export const ROOT_COMMANDS = [
  "doctor",
  "refresh",
  "refresh --if-pending",
  "magazine list",
  "magazine init",
  "magazine rename",
  "status",
  "status --prometheus",
  "check",
  "where",
  "changer",
  "eject",
  "unlock",
  "automap",
  "setup",
] as const;
export type RootCommand = (typeof ROOT_COMMANDS)[number];

/**
 * Who can put something else there: root (and the kernel) alone; the caller (a path or an
 * environment variable given on the command line); the run-as user; whoever plugs in a disk;
 * the storage daemon's user (Debian's bacula-sd.conf is bacula:bacula).
 */
export type Controller =
  | "root"
  | "kernel"
  | "caller"
  | "run-as user"
  | "disk"
  | "storage daemon's user";

export interface RootRead {
  /** The file as the README names it (WORK_DIR, BAY, LOG_FILE, ... are the config's paths). */
  path: string;
  controller: Controller;
  /** How it is read, in the README's words. */
  how: string;
  /** Commands that open it as root. */
  asRoot: readonly RootCommand[];
  /** Commands that open it only after becoming the run-as user. */
  afterDrop: readonly RootCommand[];
  /** The most bytes read; 0 for a file opened but never read. Undefined: root's own files. */
  cap: number | undefined;
}

/** The README defines it once: no link followed, a regular file only, looked at before it is opened, at most the cap. */
const BOUNDED = "bounded";
const CHANGER_STATE: readonly RootCommand[] = [
  "changer",
  "refresh",
  "status",
  "where",
];
/** What check and the metrics read after the drop (bacula/monitor.ts): the work dir's record. */
const MONITORS: readonly RootCommand[] = ["check", "status --prometheus"];

export const ROOT_READS: readonly RootRead[] = [
  {
    path: "CONFIG (-c FILE, the vchanger form's CONFIG)",
    controller: "caller",
    how: "only when root alone controls the file, every directory and every link to it (a refusal names the fix); a regular file only, looked at before it is opened and checked again on the fd",
    asRoot: [
      "doctor",
      "refresh",
      "changer",
      "magazine list",
      "status",
      ...MONITORS,
      "setup",
    ],
    afterDrop: [],
    cap: MAX_CONFIG_BYTES,
  },
  {
    path: "CONFIG_DIR/*.toml (/etc/magchanger, or MAGCHANGER_CONFIG_DIR)",
    controller: "caller",
    how: "each file as CONFIG is; a file that fails is skipped and named",
    asRoot: ["unlock", "automap"],
    afterDrop: [],
    cap: MAX_CONFIG_BYTES,
  },
  {
    path: "WORK_DIR/config.cache.json",
    controller: "run-as user",
    how: `${BOUNDED}; used only when it names the user and group root's config names`,
    asRoot: [],
    afterDrop: [...CHANGER_STATE, ...MONITORS],
    cap: MAX_READ_BYTES,
  },
  {
    path: "WORK_DIR/slots",
    controller: "run-as user",
    how: BOUNDED,
    asRoot: [],
    afterDrop: [...CHANGER_STATE, "magazine list", ...MONITORS],
    cap: MAX_REGISTRY_BYTES,
  },
  {
    path: "WORK_DIR/drives.json",
    controller: "run-as user",
    how: BOUNDED,
    asRoot: ["doctor", "eject"],
    afterDrop: ["changer", "refresh", "status"],
    cap: MAX_DRIVES_BYTES,
  },
  {
    path: "WORK_DIR/refresh.json",
    controller: "run-as user",
    how: `${BOUNDED}; only barcodes are taken from it`,
    asRoot: [],
    afterDrop: [
      "doctor",
      "refresh",
      "refresh --if-pending",
      "magazine list",
      ...MONITORS,
    ],
    cap: MAX_REFRESH_STATE_BYTES,
  },
  {
    path: "WORK_DIR/listing.cache",
    controller: "run-as user",
    how: `${BOUNDED}; a damaged one is not used`,
    asRoot: [],
    afterDrop: ["changer"],
    cap: MAX_CACHE_BYTES,
  },
  {
    path: "WORK_DIR/magazines.json",
    controller: "run-as user",
    how: `${BOUNDED}; each field checked (uuid, number, name, label, bay, times, measured space)`,
    asRoot: [],
    afterDrop: [
      "changer",
      "refresh",
      "refresh --if-pending",
      "magazine list",
      "status",
      "where",
      ...MONITORS,
    ],
    cap: MAX_KNOWN_MAGAZINES_BYTES,
  },
  {
    path: "WORK_DIR/wanted.json",
    controller: "run-as user",
    how: BOUNDED,
    asRoot: [],
    afterDrop: ["refresh", "refresh --if-pending", "status"],
    cap: MAX_WANTED_BYTES,
  },
  {
    path: "WORK_DIR/damaged.json",
    controller: "run-as user",
    how: `${BOUNDED}; volume names and what was recorded of them, printed escaped`,
    asRoot: [],
    afterDrop: ["refresh", "status", "doctor"],
    cap: MAX_DAMAGED_BYTES,
  },
  {
    path: "WORK_DIR/space-wanted.json",
    controller: "run-as user",
    how: `${BOUNDED}; only the wait keys and the times they were told are taken from it`,
    asRoot: [],
    afterDrop: ["refresh", "refresh --if-pending", "status"],
    cap: MAX_SPACE_WANTED_BYTES,
  },
  {
    path: "WORK_DIR/events/ID.json",
    controller: "run-as user",
    how: `${BOUNDED}; a known kind with typed fields only; the notifier gets those fields, never the file again`,
    asRoot: [],
    afterDrop: ["refresh", "refresh --if-pending", "status"],
    cap: MAX_EVENT_BYTES,
  },
  {
    path: "WORK_DIR/events/ID.attempt",
    controller: "run-as user",
    how: BOUNDED,
    asRoot: [],
    afterDrop: ["refresh"],
    cap: MAX_ATTEMPT_BYTES,
  },
  {
    path: "WORK_DIR/events/noticed.json",
    controller: "run-as user",
    how: BOUNDED,
    asRoot: [],
    afterDrop: ["refresh"],
    cap: MAX_NOTICED_BYTES,
  },
  {
    path: "WORK_DIR/events/rotation.json",
    controller: "run-as user",
    how: `${BOUNDED}; only which stays were told of a [rotation] limit is taken from it`,
    asRoot: [],
    afterDrop: ["refresh", "refresh --if-pending"],
    cap: MAX_ROTATION_TOLD_BYTES,
  },
  {
    path: "WORK_DIR/events/refresh-failed.last",
    controller: "run-as user",
    how: BOUNDED,
    asRoot: [],
    afterDrop: ["refresh"],
    cap: MAX_LAST_FAILURE_BYTES,
  },
  {
    path: "WORK_DIR/refresh.lock",
    controller: "run-as user",
    how: "opened without following a link or blocking, the run-as user's own, never read",
    asRoot: [],
    afterDrop: ["refresh"],
    cap: 0,
  },
  {
    path: "WORK_DIR/lock",
    controller: "run-as user",
    how: "opened without following a link or blocking, the run-as user's own, never read",
    asRoot: [],
    afterDrop: ["changer", "refresh"],
    cap: 0,
  },
  {
    path: "LOG_FILE",
    controller: "run-as user",
    how: "opened to append only: through directories root or the run-as user own, no link followed, the run-as user's or root's with one link; never read",
    asRoot: ["eject", "unlock"],
    afterDrop: ["changer", "refresh", ...MONITORS],
    cap: 0,
  },
  {
    path: "METRICS_FILE (status --prometheus FILE)",
    controller: "caller",
    how: "written, never read: a new file beside it renamed over it, only in a directory root alone controls (elsewhere refused, the file left as it was); the metrics are gathered by the binary run again, which drops to the run-as user",
    asRoot: ["status --prometheus"],
    afterDrop: [],
    cap: 0,
  },
  {
    path: "BAY/.magchanger-UUID/magazine.json",
    controller: "disk",
    how: `${BOUNDED}; .magchanger-UUID a real directory`,
    asRoot: ["doctor", "eject", "magazine init", "magazine rename"],
    afterDrop: ["changer", "refresh", "magazine list", "status", "where"],
    cap: IDENTITY_MAX_BYTES,
  },
  {
    path: "BAY/index, BAY/loadedN (vchanger 0.8)",
    controller: "disk",
    how: BOUNDED,
    asRoot: [],
    afterDrop: ["magazine init"],
    cap: LINE_FILE_MAX_BYTES,
  },
  {
    path: "SD_CONFIG (bacula-sd.conf) and every file its @lines name",
    controller: "storage daemon's user",
    how: "each file a regular file only, looked at before it is opened, capped; a link followed only where root alone controls the path; setup --write reads only the main file, as root, bounded, to edit it",
    asRoot: [],
    afterDrop: ["doctor"],
    cap: MAX_DAEMON_CONFIG_BYTES,
  },
  {
    path: "DIR_CONFIG (bacula-dir.conf) and its @includes; bconsole.conf",
    controller: "root",
    how: "as SD_CONFIG; setup reads the main file only, bounded",
    asRoot: ["setup"],
    afterDrop: ["doctor"],
    cap: MAX_DAEMON_CONFIG_BYTES,
  },
  {
    path: "installed files: the udev rule, autofs map, systemd units, Bacula stanzas, man pages, bash completion",
    controller: "root",
    how: "a regular file only, capped; links followed only where root alone controls the path",
    asRoot: ["doctor", "setup"],
    afterDrop: [],
    cap: MAX_INSTALLED_BYTES,
  },
  {
    path: "luks.key_file",
    controller: "root",
    how: "not read by magchanger: checked to be root's, 0400 and a regular file, then given to cryptsetup as --key-file",
    asRoot: ["unlock", "doctor"],
    afterDrop: [],
    cap: 0,
  },
  {
    path: "/etc/passwd, /etc/group, /etc/nsswitch.conf",
    controller: "root",
    how: "read as they are (root's own)",
    asRoot: ["doctor", "refresh", "changer", ...MONITORS, "unlock", "setup"],
    afterDrop: [],
    cap: undefined,
  },
  {
    path: "DEVICE: the block device a bay's ext filesystem is mounted from",
    controller: "kernel",
    how: "only the device the mount table names for that very mount, checked by device number before and after the open, never blocking; its superblock only",
    asRoot: ["doctor"],
    afterDrop: ["refresh", "magazine list", "status", ...MONITORS],
    cap: SUPERBLOCK_BYTES,
  },
  {
    path: "/proc/self/mountinfo, /proc/filesystems, /proc/misc, /proc/sys/kernel/random/boot_id, /sys/block/dm-*, /sys/dev/block/*/dm/name, /sys/class/block/*",
    controller: "kernel",
    how: "read as they are (the kernel's)",
    asRoot: ["doctor", "eject", "unlock", "automap"],
    afterDrop: ["changer", "refresh", "magazine list", "status", "where"],
    cap: undefined,
  },
  {
    path: "/run/magchanger/MAPPER.waiting",
    controller: "root",
    how: "its existence only: unlock marks there, in root's own 0700 directory, a disk that waits for a stale mapping's name",
    asRoot: ["unlock"],
    afterDrop: [],
    cap: 0,
  },
];
