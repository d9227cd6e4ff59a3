/**
 * A throw-away Bacula 9.6 installation for end-to-end tests: Director (sqlite3 catalog), Storage
 * Daemon, File Daemon and bconsole, all in one fresh temp dir, all on 127.0.0.1, nothing of
 * /etc/bacula or /var/lib/bacula read or written.
 *
 * Bacula facts this depends on (Debian 12, Bacula 9.6.7, measured here):
 * - Every daemon gets an ABSOLUTE `-c` path: a relative one is looked up in /etc/bacula.
 * - `-f` keeps a daemon in the foreground (no fork), so its pid is ours to kill. It still
 *   writes `<name>.<port>.pid` into `Pid Directory` and state files into `WorkingDirectory`:
 *   both point into the temp dir, per daemon (defaults: /run/bacula, /var/lib/bacula).
 * - `-t` parses a config and exits: run first, so a config error is reported with its line.
 * - The Director requires `QueryFile` (only the `query` command reads it): an empty file here.
 * - `DirAddress`/`SDAddress`/`FDAddress = 127.0.0.1` bind to loopback only (the default is every
 *   address). The Director's Client and Storage resources carry `Address = 127.0.0.1`: that is
 *   also the address the Director hands the FD to reach the SD.
 * - Passwords pair up: Director `Password` = bconsole's; Director Storage `Password` = the SD's
 *   `Director { Password }`; Director Client `Password` = the FD's `Director { Password }`.
 *   The SD's and FD's `Director { Name }` must equal the Director's name. Readiness is checked
 *   through the Director (`status dir`, `status storage=`, `status client=`), which proves it.
 * - sqlite3 catalog: the file is `<Director WorkingDirectory>/<dbname>.db`. Debian's
 *   make_sqlite3_tables cannot be used as is (it cds to /var/lib/bacula and its db name is the
 *   unsubstituted `XXX_DBNAME_XXX`); the plain schema is in
 *   /usr/share/dbconfig-common/data/bacula-director-sqlite3/install/sqlite3, loaded with
 *   `sqlite3 -bail FILE ".read SCHEMA"` (fallback: the here-document of make_sqlite3_tables on
 *   stdin). Schema version 16.
 * - Messages: no `mail`/`operator` lines (they would run bsmtp against localhost:25).
 *   `console` makes `messages` in bconsole show them; `catalog` makes `llist joblog` work;
 *   `append` keeps everything in log/bacula.log. The SD and FD send theirs to the Director
 *   (`director = NAME = all`).
 * - `Maximum Concurrent Jobs` on the Director defaults to 1; raised so a restore can queue
 *   while a job runs. `AutoPrune = no`, `Recycle = no`: nothing expires during a test.
 * - Plain file storage: `Device Type = File`, `Archive Device = DIR`, `Label Media = yes`,
 *   `Automatic Mount = yes`, `Random Access = yes`, `Removable Media = no`, and the Pool's
 *   `Label Format` so the Director creates volumes itself (else the job waits for an operator).
 * - Autochanger: SD `Autochanger { Device = drives; Changer Command; Changer Device }`, each
 *   drive `Autochanger = yes`, `Drive Index = i`, `Maximum Changer Wait` (a Device directive),
 *   `Label Media = no` (volumes get labeled by `label barcodes`), `Removable Media = yes` as setup
 *   writes it (a volume not in the changer is waited for by name; with `no` the SD marks a volume
 *   it cannot open Error: drawer-volume.test.ts); the Director's Storage says
 *   `Autochanger = yes` and `Device = <Autochanger name>`. `Media Type` must be equal in the
 *   Director's Storage and every SD Device.
 * - `run job=J level=Full yes` prints `Job queued. JobId=N`; `wait jobid=N` blocks until the job
 *   ends and prints `JobStatus=OK (T)`, but never returns while a job waits for an operator:
 *   waitJob watches `status dir` for that and fails fast with the messages.
 * - A restore without prompts: `restore jobid=N restorejob=R client=C where=W all done yes`;
 *   files land at W + their original absolute path. `restore jobid=N` restores only job N's
 *   files (an Incremental alone), not the chain.
 * - `label barcodes` ignores a `yes` argument in 9.6: the confirmation is a separate `yes` line.
 * - bconsole: `-n` (no conio) reads commands from stdin and exits at EOF.
 *
 * Cleanup: see scratch.ts. Daemons are process-group leaders (setsid) so the SD's changer
 * children die with it; stop() (and `await using`) kills them and removes the temp dir; a
 * watchdog does it if the test process dies; the next start reaps what a SIGKILL left.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  OPERATOR_WAIT,
  parseLlist,
  parseQueuedJobId,
  parseWaitStatus,
  runningJobLine,
} from "./bconsole-output.ts";
import {
  type AutochangerSpec,
  type BaculaNames,
  type ConfigInput,
  isAutochanger,
} from "./configs.ts";
import { daemonOutput, launchBacula, type LaunchOptions } from "./launch.ts";
import { type Daemon, describeFailure, runTool, tail } from "./processes.ts";
import { Scratch } from "./scratch.ts";
import { baculaTools, pickPorts } from "./setup.ts";

export type { AutochangerSpec, BaculaNames } from "./configs.ts";
export { baculaMissing, resolveUser } from "./setup.ts";

export interface BaculaOptions extends LaunchOptions {
  /** Directory the backup job's FileSet includes. */
  filesetDir: string;
  /** Restore target (`Where`); default <root>/restore. */
  restoreDir?: string;
  /** Omit for plain file storage in <root>/storage (no changer). */
  autochanger?: AutochangerSpec;
  /** Default "File". */
  mediaType?: string;
  /** Pool `Maximum Volume Bytes`, e.g. "5M". */
  maximumVolumeBytes?: string;
  /** Pool `Label Format`; default "Vol-" without a changer, none with one. */
  labelFormat?: string;
  /** Override resource names (e.g. the Director's Storage = the changer's `name`). */
  names?: Partial<BaculaNames>;
}

export interface JobResult {
  jobid: number;
  /** One-letter JobStatus: T ok, W ok with warnings, E/e/f errors, A canceled. */
  status: string;
  statusText: string;
  ok: boolean;
}

export interface Volume {
  name: string;
  status: string;
  slot: number;
  inChanger: boolean;
  bytes: number;
}

type Tools = ReturnType<typeof baculaTools>;

export class BaculaHarness implements AsyncDisposable {
  readonly daemons: Daemon[] = [];
  /** bconsole calls in flight: killed by stop(), e.g. when a test timed out inside waitJob. */
  readonly running = new Set<Bun.Subprocess>();
  private stopped = false;

  private constructor(
    private readonly scratch: Scratch,
    readonly config: ConfigInput,
    private readonly tools: Tools,
  ) {}

  get root(): string {
    return this.scratch.root;
  }
  get names(): BaculaNames {
    return this.config.names;
  }
  get restoreDir(): string {
    return this.config.restoreDir;
  }
  get bconsoleConfPath(): string {
    return join(this.root, "bconsole.conf");
  }
  get bconsolePath(): string {
    return this.tools.bconsole;
  }

  static async start(opts: BaculaOptions): Promise<BaculaHarness> {
    const tools = baculaTools();
    const scratch = Scratch.create("bacula");
    const root = scratch.root;
    try {
      for (const d of ["dir", "sd", "fd", "log"])
        mkdirSync(join(root, d), { mode: 0o755 });
      const names: BaculaNames = {
        director: "mc-dir",
        storageDaemon: "mc-sd",
        fileDaemon: "mc-fd",
        storage: "mc-storage",
        sdDevice: opts.autochanger ? "mc-changer" : "mc-filedev",
        pool: "mc-pool",
        catalog: "mc-catalog",
        fileset: "mc-fileset",
        backupJob: "mc-backup",
        restoreJob: "mc-restore",
        ...opts.names,
      };
      const restoreDir = opts.restoreDir ?? join(root, "restore");
      mkdirSync(restoreDir, { recursive: true });
      const storage = opts.autochanger ?? {
        archiveDevice: join(root, "storage"),
      };
      if (!isAutochanger(storage))
        mkdirSync(storage.archiveDevice, { mode: 0o755 });
      const secret = () => randomBytes(16).toString("hex");
      const config: ConfigInput = {
        root,
        ports: await pickPorts(),
        passwords: { console: secret(), sd: secret(), fd: secret() },
        names,
        mediaType: opts.mediaType ?? "File",
        maximumVolumeBytes: opts.maximumVolumeBytes,
        labelFormat:
          opts.labelFormat ?? (opts.autochanger ? undefined : "Vol-"),
        filesetDir: opts.filesetDir,
        restoreDir,
        storage,
      };
      const h = new BaculaHarness(scratch, config, tools);
      try {
        await launchBacula(
          {
            scratch,
            config,
            tools,
            bconsoleConfPath: h.bconsoleConfPath,
            daemons: h.daemons,
            running: h.running,
          },
          opts,
        );
      } catch (e) {
        await h.stop();
        throw e;
      }
      return h;
    } catch (e) {
      await scratch.cleanup();
      throw e;
    }
  }

  daemonOutput(name: string): string {
    return daemonOutput(this.root, name);
  }

  /** The Director's message log (every job and daemon message: `append` in Messages). */
  baculaLog(): string {
    const p = join(this.root, "log", "bacula.log");
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }

  /** Runs bconsole with commands on stdin (it exits at EOF); throws on failure or timeout. */
  async bconsole(
    commands: string,
    timeoutMs = 60_000,
    signal?: AbortSignal,
  ): Promise<string> {
    if (this.stopped) throw new Error("bacula harness is stopped");
    const r = await runTool(
      [this.tools.bconsole, "-n", "-c", this.bconsoleConfPath],
      {
        stdin: `${commands.trimEnd()}\nquit\n`,
        timeoutMs,
        running: this.running,
        ...(signal ? { signal } : {}),
      },
    );
    if (r.exitCode !== 0 || r.timedOut)
      throw new Error(`bconsole failed:\n${describeFailure(r)}`);
    return r.stdout + r.stderr;
  }

  /** Starts the backup job; returns its JobId. */
  async runBackup(
    level: "Full" | "Incremental" | "Differential" = "Full",
  ): Promise<number> {
    return this.queued(
      await this.bconsole(
        `run job="${this.names.backupJob}" level=${level} yes`,
      ),
    );
  }

  /** Restores all files of the given jobs to `where` (default restoreDir); returns the JobId. */
  async runRestore(jobids: number[], where = this.restoreDir): Promise<number> {
    const n = this.names;
    return this.queued(
      await this.bconsole(
        `restore jobid=${jobids.join(",")} restorejob="${n.restoreJob}" client="${n.fileDaemon}" ` +
          `where="${where}" all done yes`,
      ),
    );
  }

  private queued(out: string): number {
    const jobid = parseQueuedJobId(out);
    if (jobid === undefined)
      throw new Error(`job was not queued:\n${tail(out)}`);
    return jobid;
  }

  /**
   * Waits for a job to end: `wait jobid=N`, bounded by timeoutMs, while `status dir` is polled:
   * a job waiting for an operator (mount, label) for stuckMs fails at once, with the messages.
   */
  async waitJob(
    jobid: number,
    opts: { timeoutMs?: number; stuckMs?: number } = {},
  ): Promise<JobResult> {
    const { timeoutMs = 300_000, stuckMs = 20_000 } = opts;
    const abort = new AbortController();
    let finished = false;
    const waiter = this.bconsole(
      `wait jobid=${jobid}`,
      timeoutMs,
      abort.signal,
    ).finally(() => {
      finished = true;
    });
    waiter.catch(() => {});
    let waitingSince: number | undefined;
    while (!finished) {
      await Promise.race([waiter.catch(() => {}), Bun.sleep(1_000)]);
      if (finished) break;
      const line =
        runningJobLine(
          await this.bconsole("status dir", 30_000).catch(() => ""),
          jobid,
        ) ?? "";
      if (!OPERATOR_WAIT.test(line)) {
        waitingSince = undefined;
        continue;
      }
      waitingSince ??= Date.now();
      if (Date.now() - waitingSince >= stuckMs) {
        abort.abort();
        throw new Error(
          `job ${jobid} is stuck: ${line}\n${tail(await this.messages().catch(String))}`,
        );
      }
    }
    let out: string;
    try {
      out = await waiter;
    } catch (e) {
      const diag = await this.bconsole("status dir\nmessages", 15_000).catch(
        String,
      );
      throw new Error(
        `job ${jobid} did not end within ${timeoutMs} ms\n${tail(diag)}`,
        { cause: e },
      );
    }
    const s = parseWaitStatus(out);
    if (!s) throw new Error(`no JobStatus for job ${jobid}:\n${tail(out)}`);
    return {
      jobid,
      status: s.letter,
      statusText: s.text,
      ok: s.letter === "T",
    };
  }

  /** The job's log from the catalog (`llist joblog`), one entry per message, in order. */
  async jobLog(jobid: number): Promise<string[]> {
    const out = await this.bconsole(`llist joblog jobid=${jobid}`);
    return [...out.matchAll(/^\s*LogText: ([\s\S]*?)\n\\\n/gm)].map((m) =>
      (m[1] ?? "").trimEnd(),
    );
  }

  /** Pending console messages (reading them clears them). */
  async messages(): Promise<string> {
    return this.bconsole("messages");
  }

  /** `label barcodes` of the changer into the pool, confirmed; returns the output. */
  async labelBarcodes(drive = 0, pool = this.names.pool): Promise<string> {
    return this.bconsole(
      `label barcodes storage="${this.names.storage}" pool="${pool}" drive=${drive}\nyes`,
      300_000,
    );
  }

  /** `update slots` (runs the changer's `slots` and `list`). */
  async updateSlots(drive = 0): Promise<string> {
    return this.bconsole(
      `update slots storage="${this.names.storage}" drive=${drive}`,
      120_000,
    );
  }

  /** The catalog's volumes (`llist volumes`). */
  async volumes(): Promise<Volume[]> {
    const out = await this.bconsole(`llist volumes pool="${this.names.pool}"`);
    return parseLlist(out)
      .filter((r) => r.volumename !== undefined)
      .map((r) => ({
        name: r.volumename ?? "",
        status: r.volstatus ?? "",
        slot: Number(r.slot ?? 0),
        inChanger: r.inchanger === "1",
        bytes: Number((r.volbytes ?? "0").replaceAll(",", "")),
      }));
  }

  /** Stops every daemon (SIGTERM, then SIGKILL of their process groups) and removes the temp dir. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.running) p.kill("SIGKILL");
    await this.scratch.cleanup();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export const startBacula = (opts: BaculaOptions) => BaculaHarness.start(opts);
