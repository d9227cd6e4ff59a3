// What each config key is for, for magchanger.toml(5). The keys, their defaults and what they
// allow come from the schema (schema-zod.ts) and the error texts (schema-messages.ts); this table
// holds only the meaning. The man page generator refuses a key without an entry here, so a new
// key cannot ship undocumented. Loaded by the generator only, never by a command.

/** Key path ("bacula.pool", "magazine[].path", a table: "bacula") -> what it is for. */
export const CONFIG_KEY_DOCS: Record<string, string> = {
  name: "The Bacula Storage name of this changer (the Director's Storage and the storage daemon's Autochanger). It prefixes the barcodes of the volumes magazine init creates: usbchanger1_0004_0008 is volume 8 of magazine 4.",
  work_dir:
    "The changer's state: the slot registry, the drives, the lock, the event queue. Each drive's Archive Device is WORK_DIR/driveN, a symbolic link to the loaded volume.",
  log_file:
    "Diagnostics; protocol commands print nothing but protocol lines, so their messages go here.",
  log_level: "The least important messages the log keeps.",
  user: "The run-as user: started as root (udev, autofs, the refresh units, an administrator), magchanger becomes this user before it touches any state. Debian's storage daemon runs as bacula.",
  group: "The run-as group (with the user's supplementary groups).",
  drives:
    "The number of drives: one Device resource per drive in bacula-sd.conf, Drive Index 0 to drives - 1.",
  lock_timeout:
    "How long an invocation waits for another one of this changer before it fails (exit 4).",
  magazine:
    "A bay: a fixed mount path where whichever disk is attached appears (autofs mounts it there), or one specific filesystem by uuid or label. A bay counts as present only when a filesystem carrying this changer's identity is mounted there; an empty mount point is absent, never a place to write volumes.",
  "magazine[].path": "The bay's mount point.",
  "magazine[].uuid":
    "One specific filesystem, by its UUID (found with blkid and the mount table).",
  "magazine[].label": "One specific filesystem, by its label.",
  "magazine[].mapper":
    "A further autofs bay's own LUKS mapping name (/dev/mapper/NAME): unlock opens a second disk plugged in while the first bay holds one under the first free bay's name, and autofs mounts it at this bay (its last path component is its autofs key).",
  "magazine[].allow_unmounted":
    "A plain directory rather than a mounted disk: no check that a filesystem is mounted there.",
  bacula:
    "How refresh, status, check and eject talk to Bacula through bconsole (never from inside a changer call).",
  "bacula.bconsole": "The bconsole program.",
  "bacula.config": "bconsole's configuration file.",
  "bacula.storage": "The Director's Storage resource of this changer.",
  "bacula.pool":
    "refresh labels every blank volume into this Pool; unset, it labels nothing. setup writes this Pool and an example Job into the Director's configuration.",
  "bacula.drive": "The drive index update slots names (drive=N).",
  "bacula.timeout": "Seconds before bconsole is killed.",
  luks: "How unlock (the udev helper) opens LUKS disks.",
  "luks.key_file":
    "The key file, root's and unreadable by others; it is only ever named to cryptsetup, never put in an argument or a log.",
  "luks.mapper":
    "The device-mapper name: an opened disk is /dev/mapper/MAPPER. udev's rule runs unlock with it, and the config whose mapper it is answers.",
  "luks.allowed_uuids": "The LUKS UUIDs unlock opens; empty: any LUKS disk.",
  automap:
    "What automap (the autofs program map, run through the link /etc/auto.NAME) answers.",
  "automap.key": "The name under the autofs mount point: /mnt/NAME/KEY.",
  "automap.fstype": "The filesystem type of the map entry.",
  "automap.options": "The mount options of the map entry.",
  "automap.luks":
    "The key mounts /dev/mapper/MAPPER when it is open; false: unencrypted disks, found by label or uuid only.",
  "automap.label": "Else the filesystem with this label.",
  "automap.uuid": "Else the filesystem with this UUID.",
  tools:
    "Where the tools magchanger runs are; each is run by this absolute path, never found through PATH.",
  "tools.blkid": "blkid, which finds filesystems by UUID or label.",
  "tools.cryptsetup": "cryptsetup, which opens and closes LUKS disks.",
  "tools.dmsetup": "dmsetup, which removes a stale mapping.",
  "tools.umount": "umount, for eject and a stale mapping.",
  "tools.tune2fs": "tune2fs, which reads an ext filesystem's reserve.",
  "tools.systemctl": "systemctl, which unlock uses to queue the refresh unit.",
  notify:
    "Who is told about events: which disk to bring, which disks in the drawer have room when a backup waits for space (or that a new disk is needed), a disk attached or removed, a disk in too long or away too long ([rotation]), a refresh that failed, a disk nearly full, a foreign disk in a bay. refresh and its timer deliver each event once, as JSON on stdin.",
  "notify.command":
    "The program and its arguments, never run by a shell. {summary} and {kind} in an argument become the event's one-line summary and kind.",
  "notify.timeout":
    "Seconds the command may run; then it is killed and the event is retried.",
  "notify.nearly_full_percent":
    "magazine-nearly-full is raised when this much of a magazine is used (root's reserve not counted).",
  rotation:
    "When a disk has stayed in, or away, long enough to tell someone through [notify]: magazine-attached-too-long and magazine-absent-too-long, each told once per stay and again only after it cleared. It only tells: nothing blocks, so a disk left in over the holidays still takes every backup. refresh and its timer check it from WORK_DIR/magazines.json, touching no disk; status, magazine list and check show the days. Unset: no such events.",
  "rotation.max_days_attached":
    "Days the same disk may stay in a bay before magazine-attached-too-long: the offsite copy is getting old, swap in another disk.",
  "rotation.max_days_absent":
    "Days a disk may stay out of every bay before magazine-absent-too-long: is it lost or forgotten?",
  legacy:
    "Written by config import from a vchanger.conf: what adopting its magazines needs.",
  "legacy.vchanger": "The vchanger version whose magazine layout is used.",
  "legacy.slots_per_magazine":
    "vchanger 0.8: slots per magazine, which keep their 0.8 numbers.",
  "legacy.magazine_bays": "vchanger 0.8: the number of bays.",
  "legacy.automount_dir":
    "vchanger 0.8: where autofs mounts a magazine by its UUID.",
  "legacy.bconsole_disabled": "The vchanger.conf disabled bconsole.",
};

/** Defaults computed from other keys (so not in the schema). */
export const COMPUTED_DEFAULTS: Record<string, string> = {
  work_dir: "/var/lib/magchanger/NAME",
  log_file: "/var/log/magchanger/NAME.log",
  "bacula.storage": "the changer's name",
};
