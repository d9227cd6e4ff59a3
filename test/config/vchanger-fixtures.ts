// vchanger.conf files the config tests write: the seed how-to's file byte for byte (vchanger
// 0.8 syntax) and files using every key of vchanger 0.8.6 and 1.0.x.

/** /usr/local/etc/vchanger.conf from the seed how-to, part 2. */
export const SEED_08 = `# changer_name  -  [required] Name of this autochanger
changer_name = "usbchanger1"
# state_dir - Directory where virtual drive state and symlinks are created
#             [Default: /var/lib/bacula/]
state_dir = "/var/lib/bacula/usbchanger1"
# logfile  -  Path to a file where errors and debugging info will be logged.
#             [Default: none]
logfile = "/var/lib/bacula/usbchanger1.log"
# slots_per_magazine  -  Number of slots each of the autochanger's magazines
#                        will have. [Default: 10]
slots_per_magazine = 10
# virtual_drives  -  Number of virtual drives to use. [Default: 1]
Virtual_Drives = 1
# magazine  -  [Required] Gives the mountpoint directory of a magazine.
#              Multiple magazine directives may be specified to define
#              a multi-magazine autochanger. Each magazine has the same
#              number of slots, so the autochanger will have
magazine = "/mnt/usbchanger1/magazine"
`;

/** vchanger 0.8.6: work_dir, bays, automount_dir, a syslog level name, a UUID magazine. */
export const FULL_086 = `CHANGER_NAME = c086
work_dir = /var/lib/bacula/c086/   # trailing slash
magazine_bays = 2
slots_per_magazine = 20
automount_dir = "/mnt/auto"
virtual_drives = 2
log_level = LOG_WARNING
logfile = c086.log
magazine = UUID:0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a
magazine = '/mnt/c086 bay2'
`;

/** vchanger 1.0.x with every keyword, spelled as its example config and man page do. */
export const FULL_10 = `; vchanger 1.0 config
[global]
Storage Resource = "vchanger1"
User = bacula
group = "disk"
Work Dir = /var/spool/vchanger/vchanger1/
logfile = "/var/log/vchanger/vchanger1.log"
LOG LEVEL = 7   ; everything
bconsole = "/opt/bacula/bin/bconsole"
bconsole config = /etc/bacula/bconsole-vchanger.conf
Default Pool = "Offsite Pool"
magazine = "uuid:4fcb1422-f15c-4d7a-8a32-a4dcc0af5e00"
Magazine = /mnt/backup2
`;

/** What `magchanger config import` prints for SEED_08 read from /usr/local/etc/vchanger.conf. */
export const SEED_08_TOML = `# magchanger config imported from /usr/local/etc/vchanger.conf (vchanger 0.8 syntax).
# Comments name the vchanger line each value came from; conf/magchanger.toml documents every key.

name = "usbchanger1"                          # changer_name, line 2
work_dir = "/var/lib/bacula/usbchanger1"      # state_dir, line 5
log_file = "/var/lib/bacula/usbchanger1.log"  # logfile, line 8
drives = 1                                    # Virtual_Drives, line 13

[[magazine]]
path = "/mnt/usbchanger1/magazine"            # magazine, line 18

# What magchanger needs to adopt vchanger's magazines as they are (layout, slot numbering).
[legacy]
vchanger = "0.8"
slots_per_magazine = 10                       # slots_per_magazine, line 11
`;
