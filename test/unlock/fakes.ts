// Real and fake parts for unlock tests.
// Real: LUKS2 images on loop devices (cryptsetup isLuks/luksUUID and the key check work here).
// Fake: cryptsetup open/close/status and umount, because this kernel has no device-mapper
// ("Cannot initialize device-mapper"). The fakes are small scripts written into a temp dir; they
// record their argv, keep "mappings" as files, and run the real cryptsetup for header work and
// for the key check of open (`open --test-passphrase`: exit 2 on a wrong key).
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { missing } from "../helpers/capabilities.ts";
import { unwatchLoop, watchLoop } from "../helpers/loop.ts";
import { tool } from "../helpers/run.ts";

export const REAL_CRYPTSETUP = "/usr/sbin/cryptsetup";

/** Why real LUKS images on loop devices cannot be used here, or undefined. */
export function luksMissing(): string | undefined {
  return missing("luks");
}

/** A printable key, so a test can search argv, logs and output for it. */
export function writeKeyFile(
  path: string,
  secret: string,
  mode = 0o400,
): string {
  writeFileSync(path, secret, { mode });
  chmodSync(path, mode);
  return path;
}

export interface LoopDisk {
  image: string;
  device: string;
  detach(): void;
}

/** A LUKS2 image (fast pbkdf2 for tests) formatted with keyFile, attached to a loop device. */
export function createLuksDisk(
  dir: string,
  name: string,
  keyFile: string,
): LoopDisk {
  const image = join(dir, `${name}.img`);
  tool(["truncate", "-s", "20M", "--", image]);
  tool([
    REAL_CRYPTSETUP,
    "luksFormat",
    "--batch-mode",
    "--type",
    "luks2",
    "--pbkdf",
    "pbkdf2",
    "--pbkdf-force-iterations",
    "1000",
    "--key-file",
    keyFile,
    image,
  ]);
  return attach(image);
}

/** A plain (not LUKS) disk on a loop device. */
export function createPlainDisk(dir: string, name: string): LoopDisk {
  const image = join(dir, `${name}.img`);
  tool(["truncate", "-s", "4M", "--", image]);
  return attach(image);
}

function attach(image: string): LoopDisk {
  const device = tool(["losetup", "-f", "--show", "--", image]).trim();
  // A test process killed before afterAll still leaves no loop device behind.
  watchLoop(device);
  let attached = true;
  return {
    image,
    device,
    detach() {
      if (!attached) return;
      attached = false;
      tool(["losetup", "-d", device], { okCodes: [0, 1] });
      unwatchLoop(device);
      rmSync(image, { force: true });
    },
  };
}

export interface FakeTools {
  dir: string;
  cryptsetup: string;
  umount: string;
  dmsetup: string;
  systemctl: string;
  /** Every call so far, as argv arrays (tool name first). */
  calls(): string[][];
  /**
   * Pretend /dev/mapper/name is open on device ("(null)": its disk is gone), and show it in the
   * fake sysfs below DIR/sys as the kernel does (its own dm-N, dm UUID, a link to the device
   * below). gone: the kernel name of a pulled disk (default sdz1).
   */
  setMapping(name: string, device: string, gone?: string): void;
  /** The fake sysfs directory of /dev/mapper/name (DIR/sys/block/dm-N). */
  dmDir(name: string): string;
  mapping(name: string): string | undefined;
  /** Pretend /dev/mapper/name is some other device-mapper device (LVM): status says type n/a. */
  setForeign(name: string): void;
  /** Pretend mountPoint holds /dev/mapper/name open until it is unmounted. */
  setBusy(name: string, mountPoint: string): void;
  deferred(name: string): boolean;
  /** Make `cryptsetup ACTION` exit with code (and this stderr) without doing anything. */
  failNext(action: string, code: number, stderr?: string): void;
  /** Let the fake umount run the real one (for a real mount made by the test). */
  realUmount(): void;
  /** Make every systemctl call fail with code, or hang until it is killed. */
  breakSystemctl(how: number | "hang"): void;
}

const CRYPTSETUP = `#!/bin/bash
# Fake cryptsetup (test only): this kernel has no device-mapper. See test/unlock/fakes.ts.
D=__DIR__
{ printf '%s\\t' cryptsetup "$@"; printf '\\n'; } >> "$D/calls"
# The kernel's view of the mapping (name, dm UUID, the device below) as sysfs shows it.
# Each mapping is its own dm-N (the first free N), remembered in $D/dm.NAME.
sysfs() {
  local n=0; while [ -e "$D/sys/block/dm-$n" ]; do n=$((n+1)); done
  local dm="$D/sys/block/dm-$n"; mkdir -p "$dm/dm" "$dm/slaves"; echo "$n" > "$D/dm.$1"
  echo "$1" > "$dm/dm/name"; echo "253:$n" > "$dm/dev"
  echo "CRYPT-LUKS2-$(echo "$3" | tr -d - | tr A-F a-f)-$1" > "$dm/dm/uuid"
  if [ "$2" = "(null)" ]; then ln -s /sys/devices/pci0000:00/0000:00:02.0/usb2/2-1/host2/block/sdz/sdz1 "$dm/slaves/sdz1"
  else ln -s "$(realpath "/sys/class/block/$(basename "$(realpath "$2")")")" "$dm/slaves/$(basename "$(realpath "$2")")"; fi
}
action=$1; shift
if [ -f "$D/exit.$action" ]; then
  cat "$D/stderr.$action" >&2 2>/dev/null; code=$(cat "$D/exit.$action"); rm -f "$D/exit.$action" "$D/stderr.$action"; exit "$code"
fi
case $action in
  isLuks|luksUUID) exec ${REAL_CRYPTSETUP} "$action" "$@" ;;
  status)
    [ "$1" = -- ] && shift
    if [ -f "$D/maps/$1" ]; then
      busy=""; [ -f "$D/busy.$1" ] && busy=" and is in use"
      if [ -f "$D/foreign.$1" ]; then echo "/dev/mapper/$1 is active$busy."; echo "  type:    n/a"; exit 0; fi
      # A real kernel, once the disk below is gone: cryptsetup cannot tell the type any more.
      type=LUKS2; [ "$(cat "$D/maps/$1")" = "(null)" ] && type=n/a
      echo "/dev/mapper/$1 is active$busy."; echo "  type:    $type"; echo "  cipher:  aes-xts-plain64"
      echo "  device:  $(cat "$D/maps/$1")"; echo "  mode:    read/write"; exit 0
    fi
    echo "/dev/mapper/$1 is inactive."; exit 4 ;;
  open)
    key=""; type=""
    while [ $# -gt 0 ]; do
      case $1 in --key-file) key=$2; shift 2 ;; --type) type=$2; shift 2 ;; --) shift; break ;; *) echo "fake: unexpected $1" >&2; exit 1 ;; esac
    done
    [ "$type" = luks ] || { echo "fake: open without --type luks" >&2; exit 1; }
    ${REAL_CRYPTSETUP} open --test-passphrase --key-file "$key" -- "$1" || exit $?
    [ -f "$D/maps/$2" ] && { echo "Device $2 already exists." >&2; exit 5; }
    echo "$1" > "$D/maps/$2"; sysfs "$2" "$1" "$(${REAL_CRYPTSETUP} luksUUID -- "$1")"; exit 0 ;;
  close)
    deferred=""; [ "$1" = --deferred ] && { deferred=1; shift; }
    [ "$1" = -- ] && shift
    [ -f "$D/maps/$1" ] || { echo "Device $1 is not active." >&2; exit 4; }
    if [ -f "$D/busy.$1" ]; then
      [ -n "$deferred" ] && { touch "$D/deferred.$1"; exit 0; }
      echo "Device $1 is still in use." >&2; exit 5
    fi
    rm -f "$D/maps/$1"; [ -f "$D/dm.$1" ] && rm -rf "$D/sys/block/dm-$(cat "$D/dm.$1")"; rm -f "$D/dm.$1"; exit 0 ;;
esac
echo "fake cryptsetup: unexpected action $action" >&2; exit 1
`;

const UMOUNT = `#!/bin/bash
# Fake umount (test only): records argv; unmounting releases the fake mappings it held.
D=__DIR__
{ printf '%s\\t' umount "$@"; printf '\\n'; } >> "$D/calls"
target=\${!#}
if [ -f "$D/real-umount" ]; then /usr/bin/umount "$@" || exit $?; fi
for f in "$D"/busy.*; do [ -f "$f" ] && [ "$(cat "$f")" = "$target" ] && rm -f "$f"; done
exit 0
`;

const DMSETUP = `#!/bin/bash
# Fake dmsetup (test only): unlock must not need it; a call is recorded and fails.
D=__DIR__
{ printf '%s\\t' dmsetup "$@"; printf '\\n'; } >> "$D/calls"
exit 1
`;

const SYSTEMCTL = `#!/bin/bash
# Fake systemctl (test only): records argv; unlock may only queue a job, never wait for it.
D=__DIR__
{ printf '%s\\t' systemctl "$@"; printf '\\n'; } >> "$D/calls"
[ -f "$D/systemctl.hang" ] && exec sleep 30
if [ -f "$D/systemctl.exit" ]; then
  echo "Failed to start \${!#}: Unit \${!#} not found." >&2; exit "$(cat "$D/systemctl.exit")"
fi
exit 0
`;

export function createFakeTools(dir: string): FakeTools {
  mkdirSync(join(dir, "maps"), { recursive: true });
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text.replaceAll("__DIR__", `'${dir}'`), {
      mode: 0o755,
    });
    return path;
  };
  // The dm-N of a mapping: the one it has, else the first free N (as the fake cryptsetup picks).
  const dmDir = (name: string) => {
    const record = join(dir, `dm.${name}`);
    if (existsSync(record))
      return join(
        dir,
        "sys/block",
        `dm-${readFileSync(record, "utf8").trim()}`,
      );
    let n = 0;
    while (existsSync(join(dir, "sys/block", `dm-${n}`))) n += 1;
    writeFileSync(record, `${n}\n`);
    return join(dir, "sys/block", `dm-${n}`);
  };
  /** A fresh sysfs entry for name: its dm-N, dm/name and dev (253:N); the caller adds the rest. */
  const newDmDir = (name: string) => {
    const dm = dmDir(name);
    rmSync(dm, { recursive: true, force: true });
    mkdirSync(join(dm, "dm"), { recursive: true });
    writeFileSync(join(dm, "dm/name"), `${name}\n`);
    writeFileSync(join(dm, "dev"), `253:${basename(dm).slice(3)}\n`);
    return dm;
  };
  const tools: FakeTools = {
    dir,
    cryptsetup: write("cryptsetup", CRYPTSETUP),
    umount: write("umount", UMOUNT),
    dmsetup: write("dmsetup", DMSETUP),
    systemctl: write("systemctl", SYSTEMCTL),
    calls() {
      const path = join(dir, "calls");
      if (!existsSync(path)) return [];
      return readFileSync(path, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => line.replace(/\t$/, "").split("\t"));
    },
    setMapping(name, device, gone = "sdz1") {
      writeFileSync(join(dir, "maps", name), `${device}\n`);
      const dm = newDmDir(name);
      mkdirSync(join(dm, "slaves"));
      writeFileSync(
        join(dm, "dm/uuid"),
        `CRYPT-LUKS2-0b7f3c9e0a1b4c2d8e9f00112233aabb-${name}\n`,
      );
      // A pulled disk: its sysfs directory is gone, the link to it stays.
      const real =
        device === "(null)" || !existsSync(device)
          ? undefined
          : realpathSync(device);
      const below = real ? basename(real) : gone;
      symlinkSync(
        real && existsSync(`/sys/class/block/${below}`)
          ? realpathSync(`/sys/class/block/${below}`)
          : `/sys/devices/pci0000:00/0000:00:02.0/usb2/2-1/host2/block/sdz/${below}`,
        join(dm, "slaves", below),
      );
    },
    mapping(name) {
      const path = join(dir, "maps", name);
      return existsSync(path) ? readFileSync(path, "utf8").trim() : undefined;
    },
    dmDir,
    setForeign(name) {
      writeFileSync(join(dir, "maps", name), "(null)\n");
      writeFileSync(join(dir, `foreign.${name}`), "");
      const dm = newDmDir(name);
      writeFileSync(
        join(dm, "dm/uuid"),
        "LVM-Xk3fTq0PqE3mYw2Vg9cH1sZr7uJd4nB6aC8eF5hG2iK1lM0oN9pQ7rS6tU5vW4xY\n",
      );
    },
    setBusy(name, mountPoint) {
      writeFileSync(join(dir, `busy.${name}`), mountPoint);
    },
    deferred(name) {
      return existsSync(join(dir, `deferred.${name}`));
    },
    failNext(action, code, stderr = "") {
      writeFileSync(join(dir, `stderr.${action}`), stderr);
      writeFileSync(join(dir, `exit.${action}`), String(code));
    },
    realUmount() {
      writeFileSync(join(dir, "real-umount"), "");
    },
    breakSystemctl(how) {
      if (how === "hang") writeFileSync(join(dir, "systemctl.hang"), "");
      else writeFileSync(join(dir, "systemctl.exit"), String(how));
    },
  };
  return tools;
}

export interface TestConfigSpec {
  dir: string;
  name?: string;
  mapper: string;
  keyFile: string;
  tools: FakeTools;
  allowedUuids?: string[];
  logFile?: string;
  extra?: string;
  /** Further autofs bays below DIR/mnt: [[magazine]] path DIR/mnt/KEY with mapper. */
  bays?: { key: string; mapper: string }[];
}

/** The TOML text of a changer config for unlock/automap tests (root:root, no run-as switch). */
export function configText(spec: TestConfigSpec): string {
  const name = spec.name ?? "unlocktest";
  return [
    `name = "${name}"`,
    `work_dir = "${join(spec.dir, "work")}"`,
    `log_file = "${spec.logFile ?? join(spec.dir, `${name}.log`)}"`,
    `log_level = "debug"`,
    `user = "root"`,
    `group = "root"`,
    spec.extra ?? "",
    "[[magazine]]",
    `path = "${join(spec.dir, "mnt", "magazine")}"`,
    ...(spec.bays ?? []).flatMap((bay) => [
      "[[magazine]]",
      `path = "${join(spec.dir, "mnt", bay.key)}"`,
      `mapper = "${bay.mapper}"`,
    ]),
    "[luks]",
    `key_file = "${spec.keyFile}"`,
    `mapper = "${spec.mapper}"`,
    `allowed_uuids = [${(spec.allowedUuids ?? []).map((u) => `"${u}"`).join(", ")}]`,
    "[tools]",
    `cryptsetup = "${spec.tools.cryptsetup}"`,
    `umount = "${spec.tools.umount}"`,
    `dmsetup = "${spec.tools.dmsetup}"`,
    `systemctl = "${spec.tools.systemctl}"`,
    "",
  ].join("\n");
}

export function writeConfig(file: string, spec: TestConfigSpec): Config {
  const text = configText(spec);
  writeFileSync(file, text, { mode: 0o644 });
  chmodSync(file, 0o644);
  chownSync(file, 0, 0);
  return parseConfigText(text, file);
}
