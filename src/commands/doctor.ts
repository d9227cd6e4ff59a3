// `magchanger doctor -c CONF [--json] [--prefix DIR] [--binary PATH]`: checks the whole chain and
// says how to fix each problem. Reads only.
import { realpathSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { configDir } from "../config/discover.ts";
import { checksReport, formatChecks, summary } from "../doctor/report.ts";
import { runDoctor as checkChain } from "../doctor/run.ts";
import { AppError, UsageError } from "../errors.ts";
import { dropPrivileges } from "../system/identity.ts";
import { CONFIG_OPTION, defineCommand } from "./cli.ts";
import { writeJson, writeText } from "../system/fd-write.ts";

export interface DoctorOptions {
  config: string;
  json: boolean;
  prefix: string;
  /** Default: this binary. */
  binary?: string | undefined;
  sdConfig?: string | undefined;
  dirConfig?: string | undefined;
}

export async function runDoctor(opts: DoctorOptions): Promise<void> {
  const checks = await checkChain({
    configFile: resolve(opts.config),
    prefix: existingDir(opts.prefix),
    binary: opts.binary ?? thisBinary(),
    configDir: configDir(process.env),
    ...(opts.sdConfig ? { sdConfig: resolve(opts.sdConfig) } : {}),
    ...(opts.dirConfig ? { dirConfig: resolve(opts.dirConfig) } : {}),
    // As root: what the run-as user owns is read as that user (doctor/run.ts).
    becomeRunAsUser: (config) => {
      dropPrivileges({ user: config.user, group: config.group });
    },
  });
  if (opts.json) writeJson(checksReport(checks));
  else writeText(1, formatChecks(checks));
  if (checks.some((c) => c.status === "fail"))
    throw new AppError(`doctor: ${summary(checks)}`);
}

function existingDir(value: string): string {
  const dir = resolve(value);
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!ok)
    throw new UsageError(
      `--prefix ${value}: no such directory; give the DIR setup --prefix wrote to`,
    );
  return dir;
}

function thisBinary(): string | undefined {
  const running = realpathSync(process.execPath);
  return basename(running) === "bun" ? undefined : running;
}

export const command = defineCommand({
  name: "doctor",
  summary:
    "Check the changer's whole chain (config, user, work dir, magazines, key, udev, autofs, Bacula) and say how to fix what is wrong.",
  options: {
    config: CONFIG_OPTION,
    json: { type: "boolean", description: "print the checks as JSON" },
    prefix: {
      type: "string",
      value: "DIR",
      description: "where setup --prefix installed the files",
      default: "/",
    },
    binary: {
      type: "string",
      value: "PATH",
      description:
        "the magchanger the installed files should run (default: this binary)",
    },
    "sd-config": {
      type: "string",
      value: "FILE",
      description:
        "the storage daemon's config, whose Devices are checked (default: /etc/bacula/bacula-sd.conf below --prefix)",
    },
    "dir-config": {
      type: "string",
      value: "FILE",
      description:
        "the Director's config, for the storage password (default: /etc/bacula/bacula-dir.conf below --prefix)",
    },
  },
  description: [
    "Each line is OK, WARN or FAIL with the fix below it. --prefix DIR reads the installed files (udev rule, autofs map, Bacula stanzas, the config dir) below DIR, as setup --prefix wrote them; the work dir, log, magazines and key file are checked where the config says.",
  ],
  exitStatus: [
    [0, "nothing failed (warnings allowed)"],
    [1, "at least one check failed"],
    2,
  ],
  run: ({ options }) =>
    runDoctor({
      config: options.config,
      json: options.json,
      prefix: options.prefix,
      binary: options.binary,
      sdConfig: options["sd-config"],
      dirConfig: options["dir-config"],
    }),
});
