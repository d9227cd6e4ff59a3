// The Director resources that make a changer usable without writing one by hand: the Pool that
// `magchanger refresh` labels blank volumes into ([bacula] pool), and an example backup Job,
// FileSet and restore Job that use it. They go into the same include as the Storage resource.
import { baculaString as q } from "./bacula.ts";
import type { GenerateOptions, JobsInput } from "./udev.ts";

/** Where the example restore job puts files: below it, each file's original absolute path. */
export const EXAMPLE_RESTORE_WHERE = "/var/tmp/bacula-restores";
/** What the example backs up: small, present on every Debian host (Debian's "Full Set" too). */
export const EXAMPLE_FILESET_DIR = "/usr/sbin";

export function exampleJobName(name: string): string {
  return `${name}-example`;
}

export function restoreJobName(name: string): string {
  return `${name}-restore`;
}

/** The Pool (unless the Director has it already) and the example; "" when no pool is set. */
export function poolAndExample(o: GenerateOptions, input: JobsInput): string {
  const { config } = o;
  const pool = config.bacula.pool;
  if (!pool)
    return `
# No Pool: [bacula] pool is not set in ${o.configPath}, so \`magchanger refresh\` labels no
# volume. Set it (e.g. pool = "${config.name}-pool") and rerun setup --write: it writes that Pool
# here, with an example Job, and refresh labels every blank volume into it.
`;
  const storage = config.bacula.storage ?? config.name;
  const defined = input.director?.pools.includes(pool);
  const poolText = defined
    ? `
# Pool ${q(pool)} is defined in ${input.director?.file} already ([bacula] pool): refresh labels
# this changer's blank volumes into it. Give it Storage = ${q(storage)} so its jobs use this changer.
`
    : `
# The Pool \`magchanger refresh\` labels this changer's blank volumes into ([bacula] pool in
# ${o.configPath}). No Label Format: each volume is named by its barcode (its file name).
Pool {
  Name = ${q(pool)}
  Pool Type = Backup
  Storage = ${q(storage)}
  Recycle = yes
  AutoPrune = yes
  Volume Retention = 365 days
}
`;
  return `${poolText}${example(o, input, pool, storage)}`;
}

function example(
  o: GenerateOptions,
  input: JobsInput,
  pool: string,
  storage: string,
): string {
  const { name } = o.config;
  const messages = input.director?.messages.includes("Standard")
    ? "Standard"
    : (input.director?.messages[0] ?? "Standard");
  // Not CHANGE-ME: doctor reads that as the Storage's unfilled Address and Password.
  const client = input.client ?? "HOST-fd";
  const job = exampleJobName(name);
  const jobs = `FileSet {
  Name = ${q(job)}
  Include {
    Options {
      signature = SHA1
    }
    File = ${q(EXAMPLE_FILESET_DIR)}
  }
}
Job {
  Name = ${q(job)}
  Type = Backup
  Level = Full
  Client = ${q(client)}
  FileSet = ${q(job)}
  Storage = ${q(storage)}
  Pool = ${q(pool)}
  Messages = ${q(messages)}
}
Job {
  Name = ${q(restoreJobName(name))}
  Type = Restore
  Client = ${q(client)}
  FileSet = ${q(job)}
  Storage = ${q(storage)}
  Pool = ${q(pool)}
  Messages = ${q(messages)}
  Where = ${q(EXAMPLE_RESTORE_WHERE)}
}
`;
  const head = `
# EXAMPLE (change or remove it): a first backup through this changer, run by hand (no Schedule).
# In bconsole: run job=${q(job)} yes
#   then: restore restorejob=${q(restoreJobName(name))} fileset=${q(job)} select current all done yes
# It backs up ${EXAMPLE_FILESET_DIR} and restores below ${EXAMPLE_RESTORE_WHERE}.
`;
  if (input.client) return `${head}${jobs}`;
  const why = input.director
    ? `${input.director.file} has ${input.director.clients.length ? `several Clients (${input.director.clients.join(", ")})` : "no Client"}`
    : "setup could not read the Director's config";
  return `${head}# Commented out: ${why}. Set Client = the File Daemon to back up, and uncomment.
${jobs
  .trimEnd()
  .split("\n")
  .map((l) => `# ${l}`)
  .join("\n")}
`;
}
