// Everything setup installs, as plain data: the printed form and --write both walk this list.
import { notifyNotes } from "./notify.ts";
import { monitoringNotes } from "./monitoring.ts";
import { dirname } from "node:path";
import { configStem, isUnitInstance } from "../system/systemd.ts";
import { autofsMasterEntry } from "./autofs.ts";
import { baculaString, dirStanza, includeLine, sdStanza } from "./bacula.ts";
import { poolAndExample } from "./bacula-jobs.ts";
import { type InstallPaths, installPaths } from "../config/layout.ts";
import type { Config } from "../config/schema.ts";
import {
  REFRESH_SERVICE_PATH,
  REFRESH_TIMER_PATH,
  refreshDropIn,
  refreshDropInPath,
  refreshService,
  refreshTimer,
  RETRY_SERVICE_PATH,
  retryService,
} from "./systemd.ts";
import { nextSteps } from "./next-steps.ts";
import { type GenerateOptions, udevRule } from "./udev.ts";

export interface Owner {
  user: string;
  group: string;
}

export type Piece =
  /** A file setup owns: replaced (after a backup) when its content differs. */
  | {
      kind: "file";
      path: string;
      content: string;
      /** What the dry run prints instead, when content holds a secret. */
      shown?: string;
      mode: number;
      group?: string;
      /** false: no FILE.magchanger-bak of a replaced one (generated files: man pages). */
      backup?: false;
      what: string;
    }
  | { kind: "symlink"; path: string; target: string; what: string }
  /**
   * A directory created when missing (with `owner`, when set). `claim`: an existing one is given
   * to the owner too; never for a directory that may be shared, such as /var/log.
   */
  | {
      kind: "dir";
      path: string;
      mode: number;
      owner?: Owner;
      claim?: boolean;
      what: string;
    }
  /** An empty file created when missing, never rewritten (the changer appends to it). */
  | { kind: "touch"; path: string; mode: number; owner: Owner; what: string }
  /** A line appended to an existing file of the admin's, only when the file exists. */
  | {
      kind: "include";
      path: string;
      line: string;
      comment: string;
      what: string;
    }
  /** The LUKS key: random bytes, created only when missing, never shown. */
  | { kind: "keyfile"; path: string; bytes: number; what: string };

export interface SetupPlan {
  pieces: Piece[];
  /** What setup cannot do itself, printed after the pieces. */
  notes: string[];
}

export const KEY_BYTES = 4096;

export function planSetup(o: GenerateOptions): SetupPlan {
  const paths = installPaths(o.config.name, o.configPath);
  const notes: string[] = [];
  const pieces: Piece[] = [
    {
      kind: "file",
      path: paths.udevRule,
      content: udevRule(o),
      mode: 0o644,
      what: "udev rule: unlock LUKS disks on attach, close them on removal",
    },
    ...autofsPieces(o, paths, notes),
    ...refreshPieces(o, notes),
    ...baculaPieces(o, paths),
    ...statePieces(o.config),
    ...docPieces(o, notes),
  ];
  notes.push(...notifyNotes(o.config, o.configPath));
  notes.push(...monitoringNotes(o));
  notes.push(...nextSteps(o, paths.dirStanza, paths.sdMain));
  return { pieces, notes };
}

/** The autofs master entry and program map, when a bay's path ends in automap.key. */
function autofsPieces(
  o: GenerateOptions,
  paths: InstallPaths,
  notes: string[],
): Piece[] {
  const master = autofsMasterEntry(o);
  if (!master) {
    notes.push(
      `no [[magazine]] path ends in /${o.config.automap.key} (automap.key), so no autofs map was generated: mount the magazines yourself, or add a bay such as path = "/mnt/${o.config.name}/${o.config.automap.key}"`,
    );
    return [];
  }
  return [
    {
      kind: "file",
      path: paths.autofsMaster,
      content: master,
      mode: 0o644,
      what: "autofs master map entry",
    },
    {
      kind: "symlink",
      path: paths.autofsMap,
      target: o.binary,
      what: "autofs program map (magchanger automap)",
    },
  ];
}

/** The storage daemon's and the Director's stanzas, and the include line of each. */
function baculaPieces(o: GenerateOptions, paths: InstallPaths): Piece[] {
  const comment = `# magchanger changer "${o.config.name}" (added by magchanger setup)`;
  const sdHint = `the Password of the Director resource in ${paths.sdMain} on the storage daemon's host`;
  return [
    {
      kind: "file",
      path: paths.sdStanza,
      content: sdStanza(o),
      mode: 0o644,
      what: "storage daemon: Autochanger and Device resources",
    },
    {
      kind: "include",
      path: paths.sdMain,
      line: includeLine(paths.sdStanza),
      comment,
      what: "storage daemon config: include the stanza",
    },
    directorStanza(o, paths, sdHint),
    {
      kind: "include",
      path: paths.dirMain,
      line: includeLine(paths.dirStanza),
      comment,
      what: "Director config: include the stanza",
    },
  ];
}

/** The Director's Storage, and the Pool and example Job refresh and a first backup need. */
function directorStanza(
  o: GenerateOptions,
  paths: InstallPaths,
  sdHint: string,
): Piece {
  const { pool } = o.config.bacula;
  const content =
    dirStanza(o, sdHint) +
    poolAndExample(o, o.jobs ?? { director: undefined, client: undefined });
  const password = o.filled?.password;
  // The Director's copy holds the SD password once filled in: readable by root and bacula only.
  return {
    kind: "file",
    path: paths.dirStanza,
    content,
    ...(password
      ? {
          shown: content.replace(
            `Password = ${baculaString(password)}`,
            `Password = "(the one filled in, kept)"`,
          ),
        }
      : {}),
    mode: 0o640,
    group: "bacula",
    what: `Director: Storage resource${pool ? `, Pool "${pool}" and an example Job` : ""}`,
  };
}

/** The key, the work dir and the log, the last two the run-as user's. */
function statePieces(config: Config): Piece[] {
  const runAs: Owner = { user: config.user, group: config.group };
  return [
    {
      kind: "dir",
      path: dirname(config.luks.key_file),
      mode: 0o755,
      what: "config and key directory",
    },
    {
      kind: "keyfile",
      path: config.luks.key_file,
      bytes: KEY_BYTES,
      what: "LUKS key file (created only when missing)",
    },
    {
      kind: "dir",
      path: config.work_dir,
      mode: 0o750,
      owner: runAs,
      claim: true,
      what: "work dir: drive links, slot registry, lock",
    },
    {
      kind: "dir",
      path: dirname(config.log_file),
      mode: 0o750,
      owner: runAs,
      what: "log directory (its owner is set only when setup creates it)",
    },
    {
      kind: "touch",
      path: config.log_file,
      mode: 0o640,
      owner: runAs,
      what: "changer log (owned by the run-as user, appended to by root helpers)",
    },
  ];
}

/** The man pages and the bash completion the build baked into the binary. */
function docPieces(o: GenerateOptions, notes: string[]): Piece[] {
  if (!o.docs) {
    notes.push(
      "this magchanger runs from source: the man pages and the bash completion are installed by the built binary (bun run build; magchanger setup --write)",
    );
    return [];
  }
  return Object.entries(o.docs).map(([path, content]) => {
    const page = /\/man(\d)\/(.+)\.\d$/.exec(path);
    return {
      kind: "file",
      path,
      content,
      // Generated from this binary's own declarations: the dry run names them, no roff dump.
      shown: `(${content.split("\n").length - 1} lines, generated from the command declarations when this binary was built)`,
      mode: 0o644,
      backup: false,
      what: page
        ? `manual page ${page[2]}(${page[1]})`
        : "bash completion of commands, options and config files",
    };
  });
}

/** The refresh units unlock queues and the timer's retry; the templates are shared by every changer. */
function refreshPieces(o: GenerateOptions, notes: string[]): Piece[] {
  const pieces: Piece[] = [
    {
      kind: "file",
      path: REFRESH_SERVICE_PATH,
      content: refreshService(o.binary),
      mode: 0o644,
      what: "systemd service: magchanger refresh, queued by unlock (every changer's)",
    },
    {
      kind: "file",
      path: RETRY_SERVICE_PATH,
      content: retryService(o.binary),
      mode: 0o644,
      what: "systemd service: magchanger refresh --if-pending, started by the timer (every changer's)",
    },
    {
      kind: "file",
      path: REFRESH_TIMER_PATH,
      content: refreshTimer(o.binary),
      mode: 0o644,
      what: "systemd timer: retries a pending Bacula update (every changer's)",
    },
  ];
  const stem = configStem(o.configPath);
  if (!isUnitInstance(stem)) {
    notes.push(
      `the config's file name "${stem}" cannot name a systemd unit, so unlock cannot queue magchanger-refresh@${stem}.service: rename the config with letters, digits and _.:- only`,
    );
  }
  const dropIn = refreshDropIn(o);
  if (dropIn)
    for (const service of ["refresh", "retry"] as const)
      pieces.push({
        kind: "file",
        path: refreshDropInPath(o.configPath, service),
        content: dropIn,
        mode: 0o644,
        what: `systemd drop-in: this changer's ${service} start timeout`,
      });
  return pieces;
}
