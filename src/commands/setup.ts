// `magchanger setup -c CONF [--write] [--prefix DIR] [--binary PATH] [--media-type TYPE]`: the
// udev rule, autofs map and Bacula stanzas the seed how-to writes by hand, printed or installed.
import { existsSync, realpathSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { applyPlan } from "../setup/apply.ts";
import {
  autofsBays,
  checkSafePath,
  installPaths,
  livePath,
  underPrefix,
} from "../config/layout.ts";
import { PLACEHOLDER } from "../setup/bacula.ts";
import {
  exampleClient,
  readDirectorFacts,
  readFilledStorage,
} from "../bacula/director.ts";
import { planSetup } from "../setup/plan.ts";
import { renderOutcomes, renderPlan } from "../setup/render.ts";
import type { GenerateOptions } from "../setup/udev.ts";
import { DEFAULT_CONFIG_DIR } from "../config/discover.ts";
import { defineCommand } from "./cli.ts";
import { writeText } from "../system/fd-write.ts";
import { installedDocs } from "./installed-docs.ts";

const MEDIA_TYPE = /^[A-Za-z0-9_.-]{1,127}$/;

export interface SetupOptions {
  config: string;
  write: boolean;
  prefix: string;
  /** Default: this binary. */
  binary?: string | undefined;
  /** Default: the changer name. */
  mediaType?: string | undefined;
  /** The man pages and completion to install; default: those built into this binary. */
  docs?: Record<string, string> | undefined;
}

export function runSetup(opts: SetupOptions): void {
  const prefix = resolvePrefix(opts.prefix);
  const root = process.getuid?.() === 0;
  if (opts.write && !root && prefix === "/") {
    throw new UsageError(
      "setup --write installs into /etc and /var: run it as root (sudo), or stage the files with --prefix DIR",
    );
  }
  const configFile = resolve(opts.config);
  const config = loadConfig(configFile);
  const options: GenerateOptions = {
    config,
    configPath: livePath(prefix, configFile),
    binary: resolveBinary(opts.binary),
    mediaType: opts.mediaType ?? config.name,
  };
  const docs = opts.docs ?? installedDocs();
  if (docs) options.docs = docs;
  readDirector(options, prefix);
  checkOptions(options, configFile);
  const plan = planSetup(options);
  plan.notes.unshift(...warnings(options));
  if (!opts.write) {
    const header = [
      `magchanger setup for changer "${config.name}"`,
      `config: ${options.configPath}; binary: ${options.binary}${prefix === "/" ? "" : `; prefix: ${prefix}`}`,
    ];
    writeText(1, renderPlan(plan, header, prefix));
    return;
  }
  const outcomes = applyPlan(plan, { prefix, root });
  writeText(1, renderOutcomes(outcomes, plan.notes));
}

/** What the Pool, the example Job and a rewrite of the Storage take from the Director's config. */
function readDirector(options: GenerateOptions, prefix: string): void {
  const paths = installPaths(options.config.name, options.configPath);
  const director = readDirectorFacts(underPrefix(prefix, paths.dirMain));
  options.jobs = { director, client: exampleClient(director, hostname()) };
  // What the admin filled in for CHANGE-ME survives the next --write.
  options.filled = readFilledStorage(
    underPrefix(prefix, paths.dirStanza),
    options.config.name,
    PLACEHOLDER,
  );
}

function checkOptions(options: GenerateOptions, configFile: string): void {
  checkSafePath(
    options.configPath,
    "config path",
    "move the config to /etc/magchanger/NAME.toml",
  );
  if (!MEDIA_TYPE.test(options.mediaType))
    throw new UsageError(
      `--media-type ${JSON.stringify(options.mediaType)}: use letters, digits and _.- only`,
    );
  for (const bay of autofsBays(options.config))
    checkSafePath(
      bay.path,
      `magazine path (bay in ${configFile})`,
      "use a path of letters, digits and _.+-",
    );
}

export const command = defineCommand({
  name: "setup",
  summary:
    "Print (or --write) the udev rule, autofs map, Bacula stanzas, work dir and key file of a changer, and the man pages and bash completion.",
  options: {
    config: {
      type: "string",
      short: "c",
      value: "CONF",
      description:
        "the changer's config file, e.g. /etc/magchanger/usbchanger1.toml",
      required: true,
    },
    write: {
      type: "boolean",
      description: "install the pieces (as root) instead of printing them",
    },
    prefix: {
      type: "string",
      value: "DIR",
      description: "install below DIR instead of / (staging, tests)",
      default: "/",
    },
    binary: {
      type: "string",
      value: "PATH",
      description:
        "the magchanger path the generated files run (default: this binary)",
    },
    "media-type": {
      type: "string",
      value: "TYPE",
      description:
        "Bacula Media Type of the drives (default: the changer name; vchanger setups: File)",
    },
  },
  description: [
    "Without --write nothing is written: the pieces are printed. With --write each file that changes is first copied to FILE.magchanger-bak; a second --write changes nothing.",
  ],
  exitStatus: [
    0,
    [1, "a piece could not be installed (nothing after it was changed)"],
    2,
    [3, "config (or the run-as user or group does not exist)"],
  ],
  run: ({ options }) =>
    runSetup({
      config: options.config,
      write: options.write,
      prefix: options.prefix,
      binary: options.binary,
      mediaType: options["media-type"],
    }),
});

function resolvePrefix(value: string): string {
  const prefix = resolve(value);
  let isDir = false;
  try {
    isDir = statSync(prefix).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir)
    throw new UsageError(
      `--prefix ${value}: no such directory; create it first`,
    );
  return prefix;
}

function resolveBinary(given: string | undefined): string {
  if (given !== undefined) {
    if (!given.startsWith("/"))
      throw new UsageError(
        `--binary ${given}: give an absolute path such as /usr/local/bin/magchanger`,
      );
    checkSafePath(
      given,
      "--binary",
      "install magchanger to /usr/local/bin/magchanger",
    );
    return given;
  }
  const running = realpathSync(process.execPath);
  if (basename(running) === "bun" || basename(running) === "bun-debug") {
    throw new UsageError(
      "setup is running from source under bun: pass --binary /usr/local/bin/magchanger (the path the generated files should run)",
    );
  }
  checkSafePath(
    running,
    "this binary's path",
    "install magchanger to /usr/local/bin/magchanger or pass --binary PATH",
  );
  return running;
}

/** What setup notices but does not fix: printed first among the notes. */
function warnings(o: GenerateOptions): string[] {
  const notes: string[] = [];
  if (dirname(o.configPath) !== DEFAULT_CONFIG_DIR) {
    notes.push(
      `unlock (udev), automap (autofs) and the refresh unit (systemd) look for changer configs in ${DEFAULT_CONFIG_DIR}: install this config as ${DEFAULT_CONFIG_DIR}/${o.config.name}.toml (root's, mode 0644) and run setup on that file`,
    );
  }
  if (!existsSync(o.binary)) {
    notes.push(
      `${o.binary} does not exist yet: install magchanger there (install -m 0755 dist/magchanger ${o.binary})`,
    );
  } else {
    const stats = statSync(o.binary);
    if (stats.uid !== 0 || (stats.mode & 0o022) !== 0) {
      notes.push(
        `${o.binary} runs as root from udev and autofs but is not root's alone: chown root:root ${o.binary}; chmod 0755 ${o.binary}`,
      );
    }
  }
  return notes;
}
