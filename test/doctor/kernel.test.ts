// doctor's host checks: autofs in the running kernel, device-mapper and a running udev daemon,
// with every input (/proc/filesystems, /proc/misc, the module tree, udevadm) faked.
import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../src/config/load.ts";
import { type Check, ok } from "../../src/doctor/check.ts";
import { withHostKernel } from "../../src/doctor/kernel.ts";
import {
  FILESYSTEMS_WITHOUT_AUTOFS,
  fakeHost,
  MISC_WITHOUT_DM,
} from "./host-fakes.ts";

const config = (extra = "") =>
  parseConfigText(
    `name = "k1"\n${extra}[[magazine]]\npath = "/mnt/k1/magazine"\n`,
    "/etc/magchanger/k1.toml",
  );
const rule = ok(
  "udev rule",
  "/etc/udev/rules.d/90-magchanger-k1.rules opens LUKS disks as /dev/mapper/bacula with /usr/local/bin/magchanger",
);
const before = [ok("key file", "k"), rule, ok("autofs map", "m")];
const named = (checks: Check[], name: string) =>
  checks.find((c) => c.name === name);

describe("doctor: what the host kernel offers", () => {
  test("a host with autofs, device-mapper and udev: three OKs right after the udev rule", () => {
    const checks = withHostKernel(before, config(), fakeHost());
    expect(checks.map((c) => `${c.status} ${c.name}: ${c.message}`)).toEqual([
      "ok key file: k",
      `ok udev rule: ${rule.message}`,
      "ok udev daemon: systemd-udevd runs (/usr/bin/udevadm)",
      "ok device-mapper: the running kernel 6.1.0-test has device-mapper",
      "ok autofs kernel: the running kernel 6.1.0-test has autofs",
      "ok autofs map: m",
    ]);
  });

  test("autofs built as a module but not loaded is a FAIL whose fix is modprobe autofs4", () => {
    const host = fakeHost({
      filesystems: FILESYSTEMS_WITHOUT_AUTOFS,
      moduleFiles: ["autofs4"],
    });
    expect(
      named(withHostKernel(before, config(), host), "autofs kernel"),
    ).toEqual({
      status: "fail",
      name: "autofs kernel",
      message:
        "autofs is not loaded in the running kernel 6.1.0-test (not in /proc/filesystems): automount starts but never mounts /mnt/k1/magazine",
      fix: "modprobe autofs4 (and add autofs4 to /etc/modules-load.d/autofs.conf for the next boot)",
    });
  });

  test("no autofs in /proc/filesystems nor in the module tree: this kernel has no autofs", () => {
    const host = fakeHost({ filesystems: FILESYSTEMS_WITHOUT_AUTOFS });
    expect(
      named(withHostKernel(before, config(), host), "autofs kernel"),
    ).toEqual({
      status: "fail",
      name: "autofs kernel",
      message:
        "this kernel has no autofs: neither /proc/filesystems nor /lib/modules/6.1.0-test has it, so automount starts but never mounts /mnt/k1/magazine",
      fix: "boot a kernel built with CONFIG_AUTOFS_FS (Debian's linux-image-amd64 has it)",
    });
  });

  test("a config whose bays autofs does not mount needs no autofs in the kernel", () => {
    const host = fakeHost({ filesystems: FILESYSTEMS_WITHOUT_AUTOFS });
    const checks = withHostKernel(
      before,
      config('[automap]\nkey = "disk"\n'),
      host,
    );
    expect(named(checks, "autofs kernel")).toBeUndefined();
  });

  test("device-mapper missing from /proc/misc and the module tree is a FAIL naming the mapper", () => {
    const host = fakeHost({ misc: MISC_WITHOUT_DM });
    expect(
      named(withHostKernel(before, config(), host), "device-mapper"),
    ).toEqual({
      status: "fail",
      name: "device-mapper",
      message:
        "this kernel has no device-mapper: neither /proc/misc nor /lib/modules/6.1.0-test has it (a /dev/mapper/control node alone proves nothing), so cryptsetup cannot open LUKS disks as /dev/mapper/bacula",
      fix: "boot a kernel built with CONFIG_BLK_DEV_DM, or use unencrypted disks (automap.luks = false)",
    });
  });

  test("device-mapper as an unloaded module: the fix is modprobe dm_mod", () => {
    const host = fakeHost({ misc: MISC_WITHOUT_DM, moduleFiles: ["dm-mod"] });
    expect(
      named(withHostKernel(before, config(), host), "device-mapper"),
    ).toMatchObject({
      status: "fail",
      fix: "modprobe dm_mod",
    });
  });

  test("with automap.luks = false no disk is opened, so device-mapper is not checked", () => {
    const host = fakeHost({ misc: MISC_WITHOUT_DM });
    const checks = withHostKernel(
      before,
      config("[automap]\nluks = false\n"),
      host,
    );
    expect(named(checks, "device-mapper")).toBeUndefined();
  });

  test("without udevadm the udev daemon check fails and an OK udev rule becomes a WARN that it can never fire", () => {
    const checks = withHostKernel(
      before,
      config(),
      fakeHost({ udevadm: undefined }),
    );
    expect(named(checks, "udev daemon")).toEqual({
      status: "fail",
      name: "udev daemon",
      message: "udevadm is not installed: no udev daemon runs here",
      fix: "apt-get install udev",
    });
    expect(named(checks, "udev rule")).toEqual({
      status: "warn",
      name: "udev rule",
      message: `${rule.message}, but it can never fire here: udevadm is not installed: no udev daemon runs here`,
      fix: "apt-get install udev",
    });
  });

  test("udevadm installed but no daemon running: FAIL, and the udev rule is no longer OK", () => {
    const checks = withHostKernel(
      before,
      config(),
      fakeHost({ udevRunning: false }),
    );
    expect(named(checks, "udev daemon")).toEqual({
      status: "fail",
      name: "udev daemon",
      message:
        "no udev daemon runs here (no /run/udev/control, no systemd-udevd process)",
      fix: "systemctl start systemd-udevd (a host without systemd, such as a container, has no udev: run magchanger unlock DEVICE by hand)",
    });
    expect(named(checks, "udev rule")?.status).toBe("warn");
  });

  test("a udev rule that already failed stays a FAIL", () => {
    const broken = { ...rule, status: "fail" as const, fix: "f" };
    const checks = withHostKernel(
      [broken],
      config(),
      fakeHost({ udevRunning: false }),
    );
    expect(checks[0]).toEqual(broken);
  });
});
