// Bacula stanzas that replace the seed's hand-written Autochanger/Device (bacula-sd.conf) and
// Storage (bacula-dir.conf) resources. Each goes into its own file, pulled into the daemon's
// config by one `@FILE` line.
import { driveLinkPath } from "../state/drives.ts";
import { type GenerateOptions, generatedBy } from "./udev.ts";

/** The placeholder the Director's Storage carries until the admin fills it in (doctor looks for it). */
export const PLACEHOLDER = "CHANGE-ME";

/** A Bacula quoted string: backslash and double quote are the escapes its lexer knows. */
export function baculaString(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

export function driveName(name: string, drive: number): string {
  return `${name}-drive-${drive}`;
}

export function changerCommand(binary: string): string {
  return `${binary} changer %c %o %S %a %d`;
}

export function sdStanza(o: GenerateOptions): string {
  const { config } = o;
  const drives = Array.from({ length: config.drives }, (_, i) => i);
  const devices = drives
    .map((i) => baculaString(driveName(config.name, i)))
    .join(", ");
  const deviceResources = drives
    .map(
      (i) => `
Device {
  Name = ${baculaString(driveName(config.name, i))}
  Drive Index = ${i}
  Autochanger = yes
  Device Type = File
  Media Type = ${baculaString(o.mediaType)}
  # A link magchanger points at the loaded volume (into /dev/null while the drive is empty).
  Archive Device = ${baculaString(driveLinkPath(config.work_dir, i))}
  # Its volumes live on disks that come and go: a volume of a disk in the drawer is waited for by
  # name (the operator is told which disk), never marked Error because it could not be opened.
  Removable Media = yes
  Random Access = yes
  Automatic Mount = yes
  # Volumes are labeled with their barcodes (\`label barcodes\`); a SD that labels by itself could
  # give a volume a name other than its file name.
  Label Media = no
  # Closed between jobs: autofs can unmount the disk when idle and it can be swapped.
  Always Open = no
}
`,
    )
    .join("");
  return `# magchanger changer "${config.name}": the storage daemon's Autochanger and its ${config.drives} drive(s).
${generatedBy(o)}
Autochanger {
  Name = ${baculaString(config.name)}
  Device = ${devices}
  Changer Command = ${baculaString(changerCommand(o.binary))}
  Changer Device = ${baculaString(o.configPath)}
}
${deviceResources}`;
}

export function dirStanza(o: GenerateOptions, sdHint: string): string {
  const { config } = o;
  return `# magchanger changer "${config.name}": the Director's Storage resource for its Autochanger.
${generatedBy(o)}
Storage {
  Name = ${baculaString(config.name)}
  # ${PLACEHOLDER}: the storage daemon's host name or address as the Director reaches it
  # (localhost when both run on this host).
  Address = ${baculaString(o.filled?.address ?? PLACEHOLDER)}
  SDPort = 9103
  # ${PLACEHOLDER}: ${sdHint}
  Password = ${baculaString(o.filled?.password ?? PLACEHOLDER)}
  # The SD's Autochanger resource (in the -sd.conf stanza of the same name).
  Device = ${baculaString(config.name)}
  Media Type = ${baculaString(o.mediaType)}
  Autochanger = yes
  Maximum Concurrent Jobs = ${config.drives}
}
`;
}

/** The line that pulls a stanza file into a daemon's config. */
export function includeLine(file: string): string {
  return `@${file}`;
}
