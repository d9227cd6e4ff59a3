// Everything setup installs, as plain data: the printed form and --write both walk this list.
import { dirname } from "node:path";
import type { Config } from "../config/schema.ts";
import { configStem, isUnitInstance, refreshUnit } from "../system/systemd.ts";
import { autofsMasterEntry } from "./autofs.ts";
import {
  baculaString,
  dirStanza,
  includeLine,
  PLACEHOLDER,
  sdStanza,
} from "./bacula.ts";
import {
  EXAMPLE_RESTORE_WHERE,
  exampleJobName,
  poolAndExample,
  restoreJobName,
} from "./bacula-jobs.ts";
import { autofsBay, installPaths } from "./paths.ts";
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
  const { config } = o;
  const paths = installPaths(config.name, o.configPath);
  const runAs: Owner = { user: config.user, group: config.group };
  const pieces: Piece[] = [];
  const notes: string[] = [];

  pieces.push({
    kind: "file",
    path: paths.udevRule,
    content: udevRule(o),
    mode: 0o644,
    what: "udev rule: unlock LUKS disks on attach, close them on removal",
  });

  const master = autofsMasterEntry(o);
  if (master) {
    pieces.push({
      kind: "file",
      path: paths.autofsMaster,
      content: master,
      mode: 0o644,
      what: "autofs master map entry",
    });
    pieces.push({
      kind: "symlink",
      path: paths.autofsMap,
      target: o.binary,
      what: "autofs program map (magchanger automap)",
    });
  } else {
    notes.push(
      `no [[magazine]] path ends in /${config.automap.key} (automap.key), so no autofs map was generated: mount the magazines yourself, or add a bay such as path = "/mnt/${config.name}/${config.automap.key}"`,
    );
  }

  pieces.push(...refreshPieces(o, notes));

  pieces.push({
    kind: "file",
    path: paths.sdStanza,
    content: sdStanza(o),
    mode: 0o644,
    what: "storage daemon: Autochanger and Device resources",
  });
  pieces.push({
    kind: "include",
    path: paths.sdMain,
    line: includeLine(paths.sdStanza),
    comment: `# magchanger changer "${config.name}" (added by magchanger setup)`,
    what: "storage daemon config: include the stanza",
  });
  const sdHint = `the Password of the Director resource in ${paths.sdMain} on the storage daemon's host`;
  // The Director's copy holds the SD password once filled in: readable by root and bacula only.
  const dirContent =
    dirStanza(o, sdHint) +
    poolAndExample(o, o.jobs ?? { director: undefined, client: undefined });
  const password = o.filled?.password;
  pieces.push({
    kind: "file",
    path: paths.dirStanza,
    content: dirContent,
    ...(password
      ? {
          shown: dirContent.replace(
            `Password = ${baculaString(password)}`,
            `Password = "(the one filled in, kept)"`,
          ),
        }
      : {}),
    mode: 0o640,
    group: "bacula",
    what: `Director: Storage resource${config.bacula.pool ? `, Pool "${config.bacula.pool}" and an example Job` : ""}`,
  });
  pieces.push({
    kind: "include",
    path: paths.dirMain,
    line: includeLine(paths.dirStanza),
    comment: `# magchanger changer "${config.name}" (added by magchanger setup)`,
    what: "Director config: include the stanza",
  });

  pieces.push({
    kind: "dir",
    path: dirname(config.luks.key_file),
    mode: 0o755,
    what: "config and key directory",
  });
  pieces.push({
    kind: "keyfile",
    path: config.luks.key_file,
    bytes: KEY_BYTES,
    what: "LUKS key file (created only when missing)",
  });
  pieces.push({
    kind: "dir",
    path: config.work_dir,
    mode: 0o750,
    owner: runAs,
    claim: true,
    what: "work dir: drive links, slot registry, lock",
  });
  pieces.push({
    kind: "dir",
    path: dirname(config.log_file),
    mode: 0o750,
    owner: runAs,
    what: "log directory (its owner is set only when setup creates it)",
  });
  pieces.push({
    kind: "touch",
    path: config.log_file,
    mode: 0o640,
    owner: runAs,
    what: "changer log (owned by the run-as user, appended to by root helpers)",
  });

  notes.push(...nextSteps(o, paths.dirStanza, paths.sdMain));
  return { pieces, notes };
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

/** What the admin does after --write, in order, as commands to paste. */
function nextSteps(
  o: GenerateOptions,
  dirStanza: string,
  sdMain: string,
): string[] {
  const { config, configPath } = o;
  const bay =
    config.magazine.findIndex(
      (m) => m.path !== undefined && m.path === autofsBay(config)?.path,
    ) + 1 || 1;
  const filesystem = config.automap.luks
    ? `cryptsetup luksFormat --batch-mode --key-file ${config.luks.key_file} /dev/sdX1; unplug and replug it (udev opens it as /dev/mapper/${config.luks.mapper}); mkfs.ext4 -m 0 -L ${config.name} /dev/mapper/${config.luks.mapper}`
    : `mkfs.ext4 -m 0 -L ${config.automap.label ?? config.name} /dev/sdX1`;
  const stem = configStem(configPath);
  return [
    ...(o.filled?.address && o.filled.password
      ? []
      : [
          `fill in the ${PLACEHOLDER} Address (localhost when the Director runs on this host) and Password (that of the Director resource in ${sdMain}) in ${dirStanza}, or copy its Storage resource to the Director's host`,
        ]),
    "load the new configuration: udevadm control --reload; systemctl daemon-reload; systemctl reload autofs; systemctl restart bacula-sd bacula-director",
    ...(isUnitInstance(stem)
      ? [
          `enable the refresh safety net (it retries a Bacula update that failed): systemctl enable --now ${refreshUnit(stem, "timer")}`,
        ]
      : []),
    `prepare each disk (this erases it): ${filesystem}; magchanger magazine init -c ${configPath} ${bay} --volumes 10; magchanger refresh -c ${configPath} (${labeling(o)})`,
    `check the whole chain: magchanger doctor -c ${configPath}`,
    ...firstBackup(o),
  ];
}

/** Whether refresh labels blank volumes: the question [bacula] pool answers. */
function labeling(o: GenerateOptions): string {
  const pool = o.config.bacula.pool;
  return pool
    ? `it labels every blank volume into Pool "${pool}", set by [bacula] pool`
    : `it labels nothing: [bacula] pool is not set in ${o.configPath}; set it, e.g. pool = "${o.config.name}-pool", and rerun setup --write to get that Pool`;
}

function firstBackup(o: GenerateOptions): string[] {
  const { name, bacula } = o.config;
  if (!bacula.pool || !o.jobs?.client) return [];
  const job = exampleJobName(name);
  return [
    `a first backup and restore, in bconsole: run job="${job}" yes; wait; restore restorejob="${restoreJobName(name)}" fileset="${job}" select current all done yes; wait (files land below ${EXAMPLE_RESTORE_WHERE})`,
  ];
}
