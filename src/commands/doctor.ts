// `magchanger doctor -c CONF [--json] [--prefix DIR] [--binary PATH]`: checks the whole chain and
// says how to fix each problem. Reads only.
import { realpathSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { defineCommand } from "citty";
import { AppError, UsageError } from "../errors.ts";
import { checksJson, formatChecks, summary } from "../doctor/report.ts";
import { runDoctor } from "../doctor/run.ts";
import { configDir } from "../config/discover.ts";
import { runCli } from "./cli.ts";
import { writeStdout } from "./context.ts";

const EXIT_STATUS = `Each line is OK, WARN or FAIL with the fix below it. --prefix DIR reads the installed files
(udev rule, autofs map, Bacula stanzas, the config dir) below DIR, as setup --prefix wrote them;
the work dir, log, magazines and key file are checked where the config says.
Exit status: 0 nothing failed (warnings allowed); 1 at least one check failed; 2 usage.`;

export const command = defineCommand({
  meta: {
    name: "doctor",
    description:
      "check the changer's whole chain (config, user, work dir, magazines, key, udev, autofs, Bacula)",
  },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "the changer's config file",
      required: true,
    },
    json: { type: "boolean", description: "print the checks as JSON" },
    prefix: {
      type: "string",
      description: "where setup --prefix installed the files",
      default: "/",
    },
    binary: {
      type: "string",
      description:
        "the magchanger the installed files should run (default: this binary)",
    },
    "sd-config": {
      type: "string",
      description:
        "the storage daemon's config, whose Devices are checked (default: /etc/bacula/bacula-sd.conf below --prefix)",
    },
    "dir-config": {
      type: "string",
      description:
        "the Director's config, for the storage password (default: /etc/bacula/bacula-dir.conf below --prefix)",
    },
  },
  async run({ args }) {
    const checks = await runDoctor({
      configFile: resolve(args.config),
      prefix: existingDir(args.prefix),
      binary: args.binary ?? thisBinary(),
      configDir: configDir(process.env),
      ...(args["sd-config"] ? { sdConfig: resolve(args["sd-config"]) } : {}),
      ...(args["dir-config"] ? { dirConfig: resolve(args["dir-config"]) } : {}),
    });
    writeStdout(args.json ? checksJson(checks) : formatChecks(checks));
    if (checks.some((c) => c.status === "fail"))
      throw new AppError(`doctor: ${summary(checks)}`);
  },
});

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

export async function main(args: string[]): Promise<void> {
  await runCli(command, args, EXIT_STATUS);
}
