// What setup tells the admin to do after --write, in order, as commands to paste: the notes
// printed after the pieces, up to a first backup and restore when setup wrote the example Job.
import { keyBay, luksMappers } from "../config/layout.ts";
import { configStem, isUnitInstance, refreshUnit } from "../system/systemd.ts";
import { PLACEHOLDER } from "./bacula.ts";
import {
  EXAMPLE_RESTORE_WHERE,
  exampleJobName,
  restoreJobName,
} from "./bacula-jobs.ts";
import type { GenerateOptions } from "./udev.ts";

export function nextSteps(
  o: GenerateOptions,
  dirStanza: string,
  sdMain: string,
): string[] {
  const { config, configPath } = o;
  const bay =
    config.magazine.findIndex(
      (m) => m.path !== undefined && m.path === keyBay(config)?.path,
    ) + 1 || 1;
  const filesystem = config.automap.luks
    ? `echo 'type=83' | sfdisk /dev/sdX; cryptsetup luksFormat --batch-mode --key-file ${config.luks.key_file} /dev/sdX1; udevadm trigger --settle --action=change /dev/sdX1 (udev opens it as /dev/mapper/${config.luks.mapper}); mkfs.ext4 -m 0 -L ${config.name} /dev/mapper/${config.luks.mapper}`
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
    `prepare each disk (this erases it)${several(config)}: ${filesystem}; magchanger magazine init -c ${configPath} ${bay} --volumes 10; magchanger refresh -c ${configPath} (${labeling(o)})`,
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

/** The example Job's backup and restore, when setup wrote it (a pool and a Client to back up). */
function firstBackup(o: GenerateOptions): string[] {
  const { name, bacula } = o.config;
  if (!bacula.pool || !o.jobs?.client) return [];
  const job = exampleJobName(name);
  return [
    `a first backup and restore, in bconsole: run job="${job}" yes; wait; restore restorejob="${restoreJobName(name)}" fileset="${job}" select current all done yes; wait (files land below ${EXAMPLE_RESTORE_WHERE})`,
  ];
}

/**
 * With several bays a disk goes to the first free mapping name: prepared while another disk of
 * this changer is open, it would not be /dev/mapper/<luks.mapper>, and mkfs there would erase
 * the other disk.
 */
function several(config: GenerateOptions["config"]): string {
  return config.automap.luks && luksMappers(config).length > 1
    ? `, with no other disk of this changer plugged in (else udev opens it under the next bay's mapper, and the mkfs below would erase the disk in bay 1)`
    : "";
}
