// What the seed's chain needs from this host, beyond files: autofs in the running kernel (else
// automount starts and never mounts), device-mapper (else cryptsetup cannot open a LUKS disk;
// a /dev/mapper/control node alone proves nothing) and a running udev daemon (else the udev
// rule can never fire, however right it is).
import type { Config } from "../config/schema.ts";
import { keyBay } from "../config/layout.ts";
import type { HostKernel } from "../system/kernel.ts";
import { type Check, fail, ok, warn } from "./check.ts";

function hasFilesystem(host: HostKernel, type: string): boolean {
  return host.filesystems
    .split("\n")
    .some((line) => line.split("\t")[1]?.trim() === type);
}

function checkAutofsKernel(config: Config, host: HostKernel): Check[] {
  const bay = keyBay(config);
  if (!bay) return [];
  const name = "autofs kernel";
  if (hasFilesystem(host, "autofs"))
    return [ok(name, `the running kernel ${host.release} has autofs`)];
  const effect = `automount starts but never mounts ${bay.path}`;
  if (host.modules(["autofs4", "autofs"]).length > 0)
    return [
      fail(
        name,
        `autofs is not loaded in the running kernel ${host.release} (not in /proc/filesystems): ${effect}`,
        "modprobe autofs4 (and add autofs4 to /etc/modules-load.d/autofs.conf for the next boot)",
      ),
    ];
  return [
    fail(
      name,
      `this kernel has no autofs: neither /proc/filesystems nor /lib/modules/${host.release} has it, so ${effect}`,
      "boot a kernel built with CONFIG_AUTOFS_FS (Debian's linux-image-amd64 has it)",
    ),
  ];
}

function checkDeviceMapper(config: Config, host: HostKernel): Check[] {
  if (!config.automap.luks) return [];
  const name = "device-mapper";
  if (/^\s*\d+ device-mapper$/m.test(host.misc))
    return [ok(name, `the running kernel ${host.release} has device-mapper`)];
  const effect = `cryptsetup cannot open LUKS disks as /dev/mapper/${config.luks.mapper}`;
  if (host.modules(["dm-mod", "dm_mod"]).length > 0)
    return [
      fail(
        name,
        `device-mapper is not loaded in the running kernel ${host.release} (not in /proc/misc): ${effect}`,
        "modprobe dm_mod",
      ),
    ];
  return [
    fail(
      name,
      `this kernel has no device-mapper: neither /proc/misc nor /lib/modules/${host.release} has it (a /dev/mapper/control node alone proves nothing), so ${effect}`,
      "boot a kernel built with CONFIG_BLK_DEV_DM, or use unencrypted disks (automap.luks = false)",
    ),
  ];
}

function checkUdevDaemon(host: HostKernel): Check {
  const name = "udev daemon";
  if (!host.udevadm)
    return fail(
      name,
      "udevadm is not installed: no udev daemon runs here",
      "apt-get install udev",
    );
  if (!host.udevRunning)
    return fail(
      name,
      "no udev daemon runs here (no /run/udev/control, no systemd-udevd process)",
      "systemctl start systemd-udevd (a host without systemd, such as a container, has no udev: run magchanger unlock DEVICE by hand)",
    );
  return ok(name, `systemd-udevd runs (${host.udevadm})`);
}

/**
 * checks with the host's own checks after the udev rule's, and an OK udev rule turned into a
 * WARN when no udev daemon runs: the file is right but can never fire here.
 */
export function withHostKernel(
  checks: Check[],
  config: Config,
  host: HostKernel,
): Check[] {
  const daemon = checkUdevDaemon(host);
  const ours = [
    daemon,
    ...checkDeviceMapper(config, host),
    ...checkAutofsKernel(config, host),
  ];
  const result = checks.map((c) =>
    c.name === "udev rule" && c.status === "ok" && daemon.status !== "ok"
      ? warn(
          c.name,
          `${c.message}, but it can never fire here: ${daemon.message}`,
          daemon.fix ?? "",
        )
      : c,
  );
  const last = result.findLastIndex((c) => c.name === "udev rule");
  result.splice(last < 0 ? result.length : last + 1, 0, ...ours);
  return result;
}
