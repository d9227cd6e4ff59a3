// doctor reads the storage daemon's own config (and its @includes): every drive of the
// Autochanger whose Changer Device is this config must open WORK_DIR/driveN, or the SD writes
// outside every magazine (issue 11: a vchanger-style WORK_DIR/N got a label file in the work
// dir). With the Director's config on this host too, the Storage's Password must be the SD's.
import { lstatSync, readlinkSync } from "node:fs";
import {
  type BaculaResource,
  directive,
  listDirective,
  readBaculaConf,
} from "../bacula/conf.ts";
import { errnoCode } from "../errors.ts";
import { underPrefix } from "../config/layout.ts";
import { driveLinkPath } from "../state/drives.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import type { DoctorContext } from "./context.ts";

function read(ctx: DoctorContext, path: string): BaculaResource[] | string {
  try {
    return readBaculaConf(path, (inc) => underPrefix(ctx.prefix, inc));
  } catch (error) {
    return `${errnoCode(error) ?? (error as Error).message}`;
  }
}

/** Whether archive is the drive's link, or a link to it (what the changer's load accepts). */
function reachesDrive(archive: string, expected: string): boolean {
  if (archive === expected) return true;
  try {
    return (
      lstatSync(archive).isSymbolicLink() && readlinkSync(archive) === expected
    );
  } catch {
    return false;
  }
}

export function checkSdDevices(ctx: DoctorContext, sdConf: string): Check[] {
  const resources = read(ctx, sdConf);
  if (typeof resources === "string")
    return [
      warn(
        "sd devices",
        `cannot read the storage daemon's config ${sdConf} (${resources}): its Archive Devices are not checked`,
        resources === "EACCES"
          ? `doctor reads it as the run-as user ${ctx.config.user}, as the storage daemon's own user would: let ${ctx.config.user} read it (Debian's bacula-sd.conf is bacula's), or give a readable copy with --sd-config PATH`
          : "run doctor on the storage daemon's host, or give its config with --sd-config PATH",
      ),
    ];
  const mine = resources.filter(
    (r) =>
      r.type === "autochanger" &&
      [ctx.configPath, ctx.configFile].includes(
        directive(r, "Changer Device") ?? "",
      ),
  );
  if (!mine.length)
    return [
      warn(
        "sd devices",
        `no Autochanger in ${sdConf} (or its @includes) has Changer Device = ${ctx.configPath}`,
        `add the stanza \`magchanger setup -c ${ctx.configPath}\` prints (@include it in ${sdConf}), then systemctl restart bacula-sd`,
      ),
    ];
  const devices = new Map(
    resources
      .filter((r) => r.type === "device")
      .map((r) => [directive(r, "Name") ?? "", r]),
  );
  const checks: Check[] = [];
  for (const changer of mine)
    for (const name of listDirective(changer, "Device")) {
      const device = devices.get(name);
      if (!device) {
        checks.push(
          fail(
            "sd devices",
            `Autochanger "${directive(changer, "Name")}" in ${changer.file} names Device "${name}", which is not defined`,
            `define Device "${name}" in ${sdConf}, then systemctl restart bacula-sd`,
          ),
        );
        continue;
      }
      checks.push(checkDrive(ctx, device), ...checkRemovable(device));
    }
  return checks;
}

/**
 * `Removable Media = no` (vchanger's how-to and earlier magchanger setups wrote it): when a backup
 * fills the attached disk, the Director may pick a volume of a disk in the drawer, and such a SD
 * cannot open it and marks the good volume Error (9.6.7, mount.c); with yes it waits for it by
 * name. Bacula's default is yes, so only an explicit no is reported.
 */
function checkRemovable(device: BaculaResource): Check[] {
  const value = directive(device, "Removable Media");
  if (value === undefined || !/^(no|false)$/i.test(value)) return [];
  const name = directive(device, "Name") ?? "?";
  return [
    warn(
      "sd devices",
      `Device "${name}" in ${device.file} has Removable Media = ${value}: when a backup fills the attached disk and the Director picks a volume of a disk in the drawer, the storage daemon marks that good volume Error instead of waiting for its disk`,
      `set Removable Media = yes in Device "${name}" (\`magchanger setup --write\` rewrites the stanza it wrote), then systemctl restart bacula-sd when no job runs`,
    ),
  ];
}

function checkDrive(ctx: DoctorContext, device: BaculaResource): Check {
  const name = directive(device, "Name") ?? "?";
  const index = Number(directive(device, "Drive Index") ?? "0");
  const archive = directive(device, "Archive Device") ?? "";
  if (!Number.isInteger(index) || index < 0 || index >= ctx.config.drives)
    return fail(
      "sd devices",
      `Device "${name}" in ${device.file} has Drive Index = ${directive(device, "Drive Index")}, but ${ctx.configPath} has drives = ${ctx.config.drives}`,
      `set Drive Index = 0..${ctx.config.drives - 1} (one per drive), or drives in ${ctx.configPath}`,
    );
  const expected = driveLinkPath(ctx.config.work_dir, index);
  if (!reachesDrive(archive, expected))
    return fail(
      "sd devices",
      `Device "${name}" (Drive Index ${index}) in ${device.file} has Archive Device = ${archive}: every load through it fails (the SD would write outside every magazine)`,
      `set Archive Device = ${expected} in Device "${name}", then systemctl restart bacula-sd`,
    );
  return ok(
    "sd devices",
    `Device "${name}" (Drive Index ${index}) opens ${archive}`,
  );
}

/** The Director's Storage Password must be the SD's Director Password (both on this host). */
export function checkSdPassword(
  ctx: DoctorContext,
  sdConf: string,
  dirConf: string,
): Check[] {
  const sd = read(ctx, sdConf);
  const dir = read(ctx, dirConf);
  if (typeof sd === "string" || typeof dir === "string") return [];
  const storageName = ctx.config.bacula.storage ?? ctx.config.name;
  const storage = dir.find(
    (r) => r.type === "storage" && directive(r, "Name") === storageName,
  );
  // Missing Storage: checkBacula (the stanza) and the Director's own answer say so.
  if (!storage) return [];
  const password = directive(storage, "Password");
  const sdPasswords = sd
    .filter((r) => r.type === "director")
    .map((r) => directive(r, "Password"));
  // A staged stanza holds no Director resource: nothing to compare with.
  if (!sdPasswords.length) return [];
  if (password === undefined || !sdPasswords.includes(password))
    return [
      fail(
        "sd password",
        `the Password of Storage "${storageName}" in ${storage.file} is none of the Director Passwords in ${sdConf}: the Director cannot use the storage daemon`,
        `set the same Password in both (Storage "${storageName}" in bacula-dir.conf, Director in bacula-sd.conf), then systemctl restart bacula-sd and \`reload\` in bconsole`,
      ),
    ];
  return [
    ok(
      "sd password",
      `Storage "${storageName}" in ${dirConf} and ${sdConf} share a password`,
    ),
  ];
}
