// `npm run demo -- --real --install`: the Debian packages the real demo needs, installed the
// way .ci/run installs them (apt-get, with a policy-rc.d that keeps their daemons from starting).
import { writeFileSync } from "node:fs";
import { missing, toolPath } from "../helpers/capabilities.ts";
import { CHANGER_SCENARIO } from "../e2e/bacula/magchanger.ts";
import { runTool } from "../e2e/bacula/processes.ts";

export const PACKAGES = [
  "bacula-director",
  "bacula-director-sqlite3",
  "bacula-sd",
  "bacula-fd",
  "bacula-console",
  "sqlite3",
  "e2fsprogs",
  "mount",
  "util-linux",
];

const TOOLS = [
  "bacula-dir",
  "bacula-sd",
  "bacula-fd",
  "bconsole",
  "sqlite3",
  "mkfs.ext4",
  "losetup",
  "mount",
];

/** Root, the packages (installed with --install) and what the scenario needs; else says why. */
export async function prerequisites(args: string[]): Promise<boolean> {
  if (process.getuid?.() !== 0) {
    console.error(
      "demo --real: needs root (loop devices, mounts, the bacula user): run `sudo npm run demo -- --real`",
    );
    return false;
  }
  if (TOOLS.some((t) => !toolPath(t))) {
    if (!args.includes("--install")) {
      console.error(
        `demo --real: the Debian Bacula packages are not installed: run \`npm run demo -- --real --install\` (apt-get install ${PACKAGES.join(" ")})`,
      );
      return false;
    }
    if (!(await install())) return false;
  }
  const why = missing(...CHANGER_SCENARIO);
  if (why) {
    console.error(`demo --real: cannot run here: ${why}`);
    return false;
  }
  return true;
}

/** apt-get install, with daemons kept from starting on this host (as .ci/run does). */
async function install(): Promise<boolean> {
  console.log(`\n==> installing ${PACKAGES.join(" ")} (apt-get)`);
  const policy = "/usr/sbin/policy-rc.d";
  const guard = !toolPath("policy-rc.d");
  if (guard) writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    const env = {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      DEBIAN_FRONTEND: "noninteractive",
      LANG: "C",
    };
    for (const argv of [
      ["apt-get", "update", "-qq"],
      [
        "apt-get",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        ...PACKAGES,
      ],
    ]) {
      const r = await runTool(argv, { env, timeoutMs: 900_000 });
      if (r.exitCode !== 0) {
        console.error(
          `demo --real: ${argv.join(" ")} failed:\n${r.stdout}${r.stderr}`,
        );
        return false;
      }
    }
    return true;
  } finally {
    if (guard) Bun.spawnSync(["rm", "-f", policy]);
  }
}
