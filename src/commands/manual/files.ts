// The FILES and SEE ALSO of each command's man page: what the declarations do not say. Every
// command of COMMANDS must have an entry (the generator refuses a page without one, so a new
// command cannot ship a page that forgets its files).

export interface PageExtras {
  /** [path, what it is]; WORK_DIR and NAME as the config sets them. */
  files: [string, string][];
  /** Other pages, "name(section)". */
  seeAlso: string[];
}

const CONFIG: [string, string] = [
  "/etc/magchanger/NAME.toml",
  "the changer's configuration, one file per changer; see magchanger.toml(5)",
];
const WORK_DIR: [string, string] = [
  "WORK_DIR",
  "the changer's state: the slot registry (slots), drives.json, the driveN links, the lock, magazines.json, refresh.json, the event queue (events/)",
];
const LOG: [string, string] = [
  "/var/log/magchanger/NAME.log",
  "the changer's log (log_file)",
];
const KEY: [string, string] = [
  "/etc/magchanger/luks.key",
  "the LUKS key file (luks.key_file), root's, mode 0400",
];

export const PAGE_EXTRAS: Record<string, PageExtras> = {
  changer: {
    files: [CONFIG, WORK_DIR, LOG],
    seeAlso: ["bacula-sd(8)", "bconsole(8)"],
  },
  magazine: {
    files: [
      CONFIG,
      WORK_DIR,
      [
        "BAY/.magchanger-UUID/magazine.json",
        "the identity magazine init writes on the disk",
      ],
    ],
    seeAlso: ["magchanger-refresh(8)", "tune2fs(8)"],
  },
  refresh: {
    files: [
      CONFIG,
      WORK_DIR,
      LOG,
      ["/etc/bacula/bconsole.conf", "bconsole's configuration (bacula.config)"],
    ],
    seeAlso: ["bconsole(8)", "magchanger-status(8)"],
  },
  eject: {
    files: [CONFIG, WORK_DIR, LOG],
    seeAlso: ["cryptsetup(8)", "umount(8)", "magchanger-status(8)"],
  },
  status: {
    files: [
      CONFIG,
      WORK_DIR,
      [
        "/var/lib/prometheus/node-exporter/magchanger-NAME.prom",
        "where setup's cron line has status --prometheus write the metrics",
      ],
    ],
    seeAlso: ["magchanger-check(8)", "magchanger-where(8)", "bconsole(8)"],
  },
  where: {
    files: [CONFIG, WORK_DIR],
    seeAlso: ["magchanger-status(8)"],
  },
  check: {
    files: [CONFIG, WORK_DIR],
    seeAlso: ["magchanger-status(8)", "sudoers(5)", "bconsole(8)"],
  },
  unlock: {
    files: [
      CONFIG,
      KEY,
      [
        "/etc/udev/rules.d/90-magchanger-NAME.rules",
        "the udev rule setup installs",
      ],
      LOG,
    ],
    seeAlso: ["udev(7)", "cryptsetup(8)", "magchanger-setup(8)"],
  },
  automap: {
    files: [
      CONFIG,
      [
        "/etc/auto.master.d/magchanger-NAME.autofs",
        "the autofs master entry setup installs",
      ],
      ["/etc/auto.NAME", "the program map: a link to magchanger"],
    ],
    seeAlso: ["autofs(5)", "automount(8)", "magchanger-setup(8)"],
  },
  setup: {
    files: [
      CONFIG,
      KEY,
      ["/etc/udev/rules.d/90-magchanger-NAME.rules", "the udev rule"],
      [
        "/etc/auto.master.d/magchanger-NAME.autofs",
        "the autofs master entry (and the map link /etc/auto.NAME)",
      ],
      [
        "/etc/bacula/magchanger-NAME-sd.conf",
        "the storage daemon's Autochanger and Devices",
      ],
      [
        "/etc/bacula/magchanger-NAME-dir.conf",
        "the Director's Storage, Pool and example Jobs",
      ],
      [
        "/etc/systemd/system/magchanger-refresh@.service",
        "the refresh units (and magchanger-retry@.service, magchanger-refresh@.timer)",
      ],
      ["/usr/local/share/man", "these manual pages (man5, man8)"],
      [
        "/usr/local/share/bash-completion/completions/magchanger",
        "the bash completion",
      ],
    ],
    seeAlso: ["magchanger-doctor(8)", "udev(7)", "autofs(5)", "bacula-sd(8)"],
  },
  doctor: {
    files: [
      CONFIG,
      WORK_DIR,
      KEY,
      ["/etc/bacula/bacula-sd.conf", "the storage daemon's config it reads"],
    ],
    seeAlso: ["magchanger-setup(8)", "tune2fs(8)"],
  },
  config: {
    files: [
      ["/etc/vchanger/*.conf", "vchanger's configuration, read by import"],
    ],
    seeAlso: ["vchanger(8)"],
  },
};
