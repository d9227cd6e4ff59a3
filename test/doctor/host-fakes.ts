// A fake HostKernel for doctor tests: by default a host where everything the chain needs is there.
import type { HostKernel } from "../../src/system/kernel.ts";

export const FILESYSTEMS_WITH_AUTOFS =
  "nodev\tsysfs\nnodev\tproc\n\text4\nnodev\tautofs\n";
export const FILESYSTEMS_WITHOUT_AUTOFS = "nodev\tsysfs\nnodev\tproc\n\text4\n";
export const MISC_WITH_DM = "236 device-mapper\n183 hw_random\n";
export const MISC_WITHOUT_DM = "183 hw_random\n237 loop-control\n";

export function fakeHost(
  overrides: Partial<Omit<HostKernel, "modules">> & {
    moduleFiles?: string[];
  } = {},
): HostKernel {
  const { moduleFiles = [], ...rest } = overrides;
  return {
    release: "6.1.0-test",
    filesystems: FILESYSTEMS_WITH_AUTOFS,
    misc: MISC_WITH_DM,
    udevadm: "/usr/bin/udevadm",
    udevRunning: true,
    modules: (names) => moduleFiles.filter((m) => names.includes(m)),
    ...rest,
  };
}
