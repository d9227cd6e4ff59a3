// `npm run demo -- --real --install`: the Debian packages the real demo needs, installed the
// way .ci/run installs them (apt-get, with a policy-rc.d that keeps their daemons from starting).
import { writeFileSync } from "node:fs";
import { toolPath } from "../helpers/capabilities.ts";
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

/** apt-get install, with daemons kept from starting on this host (as .ci/run does). */
export async function install(): Promise<boolean> {
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
