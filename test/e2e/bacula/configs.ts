// Bacula 9.6 configuration text for the harness. Why each directive is there: see harness.ts.

export interface AutochangerSpec {
  /** Changer Command, e.g. `/abs/dist/magchanger changer %c %o %S %a %d`. */
  changerCommand: string;
  /** Changer Device (%c): for magchanger, the config file path. */
  changerDevice: string;
  /** One Archive Device per drive; drive index = array index. */
  drives: string[];
  /** Seconds; Bacula's default is 300. */
  maximumChangerWait?: number;
  /** Let the SD label blank volumes itself (off: volumes are labeled with `label barcodes`). */
  labelMedia?: boolean;
  /** More directives per drive (index = drive), e.g. `AutoSelect = no`. */
  driveExtras?: string[];
}

export interface ConfigInput {
  root: string;
  ports: { dir: number; sd: number; fd: number };
  passwords: { console: string; sd: string; fd: string };
  names: BaculaNames;
  mediaType: string;
  maximumVolumeBytes: string | undefined;
  labelFormat: string | undefined;
  filesetDir: string;
  restoreDir: string;
  /** Plain file device (its Archive Device directory), or an autochanger. */
  storage: { archiveDevice: string } | AutochangerSpec;
}

export interface BaculaNames {
  director: string;
  storageDaemon: string;
  fileDaemon: string;
  /** The Director's Storage resource (what bconsole's storage= takes). */
  storage: string;
  /** The SD Device or Autochanger resource the Director's Storage points at. */
  sdDevice: string;
  pool: string;
  catalog: string;
  fileset: string;
  backupJob: string;
  restoreJob: string;
}

/** Bacula quoted string: backslash and double quote are the escapes its lexer knows. */
export function q(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

export function isAutochanger(s: ConfigInput["storage"]): s is AutochangerSpec {
  return "drives" in s;
}

export function directorConf(c: ConfigInput): string {
  const n = c.names;
  const log = q(`${c.root}/log/bacula.log`);
  const changer = isAutochanger(c.storage);
  return `Director {
  Name = ${q(n.director)}
  DirAddress = 127.0.0.1
  DirPort = ${c.ports.dir}
  Password = ${q(c.passwords.console)}
  QueryFile = ${q(`${c.root}/dir/query.sql`)}
  WorkingDirectory = ${q(`${c.root}/dir`)}
  PidDirectory = ${q(`${c.root}/dir`)}
  Maximum Concurrent Jobs = 10
  Messages = Standard
}
Catalog {
  Name = ${q(n.catalog)}
  dbname = "bacula"; dbuser = ""; dbpassword = ""
}
Messages {
  Name = Standard
  console = all, !skipped, !saved
  append = ${log} = all, !skipped
  catalog = all, !skipped, !saved
}
Client {
  Name = ${q(n.fileDaemon)}
  Address = 127.0.0.1
  FDPort = ${c.ports.fd}
  Catalog = ${q(n.catalog)}
  Password = ${q(c.passwords.fd)}
  AutoPrune = no
}
Storage {
  Name = ${q(n.storage)}
  Address = 127.0.0.1
  SDPort = ${c.ports.sd}
  Password = ${q(c.passwords.sd)}
  Device = ${q(n.sdDevice)}
  Media Type = ${q(c.mediaType)}
  Autochanger = ${changer ? "yes" : "no"}
  Maximum Concurrent Jobs = 10
}
Pool {
  Name = ${q(n.pool)}
  Pool Type = Backup
  Recycle = no
  AutoPrune = no
  Maximum Volumes = 1000
${c.maximumVolumeBytes ? `  Maximum Volume Bytes = ${c.maximumVolumeBytes}\n` : ""}${
    c.labelFormat ? `  Label Format = ${q(c.labelFormat)}\n` : ""
  }}
FileSet {
  Name = ${q(n.fileset)}
  Include {
    Options {
      signature = SHA1
    }
    File = ${q(c.filesetDir)}
  }
}
Job {
  Name = ${q(n.backupJob)}
  Type = Backup
  Level = Full
  Client = ${q(n.fileDaemon)}
  FileSet = ${q(n.fileset)}
  Storage = ${q(n.storage)}
  Pool = ${q(n.pool)}
  Messages = Standard
  Write Bootstrap = ${q(`${c.root}/dir/%n-%i.bsr`)}
}
Job {
  Name = ${q(n.restoreJob)}
  Type = Restore
  Client = ${q(n.fileDaemon)}
  FileSet = ${q(n.fileset)}
  Storage = ${q(n.storage)}
  Pool = ${q(n.pool)}
  Messages = Standard
  Where = ${q(c.restoreDir)}
}
`;
}

function fileDevice(
  name: string,
  c: ConfigInput,
  archiveDevice: string,
  removable: boolean,
  extra: string,
): string {
  return `Device {
  Name = ${q(name)}
  Device Type = File
  Media Type = ${q(c.mediaType)}
  Archive Device = ${q(archiveDevice)}
  Random Access = yes
  Removable Media = ${removable ? "yes" : "no"}
  Automatic Mount = yes
  Always Open = no
${extra}}
`;
}

export function storageDaemonConf(c: ConfigInput): string {
  const n = c.names;
  let devices: string;
  if (isAutochanger(c.storage)) {
    const s = c.storage;
    const driveNames = s.drives.map((_, i) => `${n.sdDevice}-drive${i}`);
    const wait =
      s.maximumChangerWait === undefined
        ? ""
        : `  Maximum Changer Wait = ${s.maximumChangerWait}\n`;
    devices = `Autochanger {
  Name = ${q(n.sdDevice)}
  Device = ${driveNames.map(q).join(", ")}
  Changer Command = ${q(s.changerCommand)}
  Changer Device = ${q(s.changerDevice)}
}
${s.drives
  .map((archive, i) =>
    fileDevice(
      driveNames[i] ?? "",
      c,
      archive,
      true,
      `  Autochanger = yes\n  Drive Index = ${i}\n  Label Media = ${s.labelMedia ? "yes" : "no"}\n${wait}${s.driveExtras?.[i] ? `  ${s.driveExtras[i]}\n` : ""}`,
    ),
  )
  .join("")}`;
  } else {
    devices = fileDevice(
      n.sdDevice,
      c,
      c.storage.archiveDevice,
      false,
      "  Label Media = yes\n",
    );
  }
  return `Storage {
  Name = ${q(n.storageDaemon)}
  SDAddress = 127.0.0.1
  SDPort = ${c.ports.sd}
  WorkingDirectory = ${q(`${c.root}/sd`)}
  PidDirectory = ${q(`${c.root}/sd`)}
  Maximum Concurrent Jobs = 10
}
Director {
  Name = ${q(n.director)}
  Password = ${q(c.passwords.sd)}
}
Messages {
  Name = Standard
  director = ${q(n.director)} = all
}
${devices}`;
}

export function fileDaemonConf(c: ConfigInput): string {
  const n = c.names;
  return `FileDaemon {
  Name = ${q(n.fileDaemon)}
  FDAddress = 127.0.0.1
  FDPort = ${c.ports.fd}
  WorkingDirectory = ${q(`${c.root}/fd`)}
  PidDirectory = ${q(`${c.root}/fd`)}
  Maximum Concurrent Jobs = 10
}
Director {
  Name = ${q(n.director)}
  Password = ${q(c.passwords.fd)}
}
Messages {
  Name = Standard
  director = ${q(n.director)} = all, !skipped, !restored
}
`;
}

export function bconsoleConf(c: ConfigInput): string {
  return `Director {
  Name = ${q(c.names.director)}
  Address = 127.0.0.1
  DIRport = ${c.ports.dir}
  Password = ${q(c.passwords.console)}
}
`;
}
