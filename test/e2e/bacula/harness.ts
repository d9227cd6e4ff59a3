/**
 * A throw-away Bacula 9.6 installation for end-to-end tests: Director (sqlite3 catalog), Storage
 * Daemon, File Daemon and bconsole, all in one fresh temp dir, all on 127.0.0.1, nothing of
 * /etc/bacula or /var/lib/bacula read or written.
 *
 * Bacula facts this depends on (Debian 12, Bacula 9.6.7, measured here):
 * - Every daemon gets an ABSOLUTE `-c` path: a relative one is looked up in /etc/bacula.
 * - `-f` keeps a daemon in the foreground (no fork), so its pid is ours to kill. It still
 *   writes `<name>.<port>.pid` into `Pid Directory`, and state/conmsg files into
 *   `WorkingDirectory`: both point into the temp dir for each daemon (defaults are
 *   /run/bacula and /var/lib/bacula).
 * - `DirAddress`/`SDAddress`/`FDAddress = 127.0.0.1` bind to loopback only (the default is every
 *   address). The Director's Client and Storage resources carry `Address = 127.0.0.1`: that is
 *   also the address the Director hands the FD to reach the SD.
 * - Passwords pair up: Director `Password` = bconsole's; Director Storage `Password` = the SD's
 *   `Director { Password }`; Director Client `Password` = the FD's `Director { Password }`.
 *   The SD's and FD's `Director { Name }` must equal the Director's name.
 * - sqlite3 catalog: the file is `<Director WorkingDirectory>/<dbname>.db`. Debian's
 *   make_sqlite3_tables cannot be used as is (it cds to /var/lib/bacula and its db name is the
 *   unsubstituted `XXX_DBNAME_XXX`); the plain schema is in
 *   /usr/share/dbconfig-common/data/bacula-director-sqlite3/install/sqlite3, loaded with
 *   `sqlite3 -bail FILE ".read SCHEMA"` (fallback: the here-document of make_sqlite3_tables on
 *   stdin). Schema version 16.
 * - Messages: no `mail`/`operator` lines (they would run bsmtp against localhost:25).
 *   `console` makes `messages` in bconsole show them; `catalog` makes `list joblog` work;
 *   `append` keeps everything in log/bacula.log. The SD and FD send theirs to the Director
 *   (`director = NAME = all`).
 * - `Maximum Concurrent Jobs` on the Director defaults to 1; raised so a restore can queue
 *   while a job runs. `AutoPrune = no`, `Recycle = no`: nothing expires during a test.
 * - Plain file storage: `Device Type = File`, `Archive Device = DIR`, `Label Media = yes`,
 *   `Automatic Mount = yes`, `Random Access = yes`, `Removable Media = no`, and the Pool's
 *   `Label Format` so the Director creates volumes itself (else the job waits for an operator).
 * - Autochanger: SD `Autochanger { Device = drives; Changer Command; Changer Device }`, each
 *   drive `Autochanger = yes`, `Drive Index = i`, `Maximum Changer Wait` (Device directive);
 *   the Director's Storage says `Autochanger = yes` and `Device = <Autochanger name>`.
 * - `Media Type` must be equal in the Director's Storage and every SD Device.
 * - `run job=J level=Full yes` prints `Job queued. JobId=N`; `wait jobid=N` blocks until the job
 *   ends and prints `JobStatus=OK (T)`; a restore without prompts needs
 *   `restore jobid=N restorejob=R client=C where=W all done yes`; files land at W + original
 *   absolute path. A job waiting for a volume never ends `wait`: hence the timeouts.
 * - bconsole: `-n` (no conio) reads commands from stdin and exits at EOF.
 *
 * Cleanup: daemons are process-group leaders (setsid) so the SD's changer children die with it;
 * stop() (also via `await using`) kills the groups and deletes the temp dir; an exit/SIGINT/
 * SIGTERM hook does the same synchronously if a test forgets or crashes; and the next start
 * reaps dirs whose owning test process is dead (after SIGKILL of bun). The temp dir is kept,
 * daemons still killed, when it holds a mount point (its owner must unmount first) or with
 * MAGCHANGER_KEEP_BACULA=1 (for debugging).
 */
import { type ChildProcess, spawn as spawnChild } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bconsoleConf,
  directorConf,
  fileDaemonConf,
  isAutochanger,
  storageDaemonConf,
  type AutochangerSpec,
  type BaculaNames,
  type ConfigInput,
} from "./configs.ts";
import {
  type Daemon,
  describeFailure,
  isRunning,
  runTool,
  startDaemon,
  stopGroups,
  tail,
} from "./processes.ts";
import {
  baculaTools,
  createCatalog,
  pickPorts,
  portAnswers,
  removeRoot,
  reapStaleRoots,
  resolveUser,
} from "./setup.ts";

export type { AutochangerSpec } from "./configs.ts";
export { baculaMissing } from "./setup.ts";

export interface BaculaOptions {
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
  /** Run-as user/group of the SD (`-u`/`-g`); default: stays root. */
  sdUser?: string;
  sdGroup?: string;
  /** `-d` debug level for the SD (its output goes to log/sd.out). */
  sdDebugLevel?: number;
  /** Override resource names (the Director's Storage name is the changer's `name`). */
  names?: Partial<BaculaNames>;
  startTimeoutMs?: number;
}

export interface JobResult {
  jobid: number;
  /** One-letter JobStatus: T ok, W ok with warnings, E/e/f errors, A canceled. */
  status: string;
  statusText: string;
  ok: boolean;
}

const live = new Set<BaculaHarness>();
let hooksInstalled = false;

function installExitHook(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Not emitted under `bun test` (measured): the watchdog covers that; this covers scripts.
  process.on("exit", () => {
    for (const h of live) h.stopNow();
  });
}

/** See watchdog.ts. Its stdin pipe is the only thing tying it to us. */
function startWatchdog(root: string): ChildProcess {
  const child = spawnChild(
    process.execPath,
    [join(import.meta.dir, "watchdog.ts"), root],
    {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    },
  );
  child.on("error", () => {});
  child.unref();
  return child;
}

export class BaculaHarness implements AsyncDisposable {
  readonly daemons: Daemon[] = [];
  /** bconsole calls in flight: killed by stop(), e.g. when a test timed out inside waitJob. */
  private readonly running = new Set<Bun.Subprocess>();
  private stopped = false;

  private constructor(
    readonly root: string,
    readonly config: ConfigInput,
    private readonly tools: ReturnType<typeof baculaTools>,
    private readonly watchdog: ChildProcess,
  ) {}

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
    reapStaleRoots();
    installExitHook();
    const root = mkdtempSync(join(tmpdir(), "magchanger-bacula-"));
    // 0755: a non-root SD (and the changer it runs) must traverse into its dirs.
    chmodSync(root, 0o755);
    for (const d of ["dir", "sd", "fd", "log"])
      mkdirSync(join(root, d), { mode: 0o755 });
    writeFileSync(
      join(root, "owner.json"),
      JSON.stringify({ ownerPid: process.pid, daemonPids: [] }),
    );
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
      labelFormat: opts.labelFormat ?? (opts.autochanger ? undefined : "Vol-"),
      filesetDir: opts.filesetDir,
      restoreDir,
      storage,
    };
    const h = new BaculaHarness(root, config, tools, startWatchdog(root));
    live.add(h);
    try {
      await h.launch(opts);
    } catch (e) {
      await h.stop();
      throw e;
    }
    return h;
  }

  private async launch(opts: BaculaOptions): Promise<void> {
    const c = this.config;
    const confs = {
      dir: [join(this.root, "bacula-dir.conf"), directorConf(c)],
      sd: [join(this.root, "bacula-sd.conf"), storageDaemonConf(c)],
      fd: [join(this.root, "bacula-fd.conf"), fileDaemonConf(c)],
      con: [this.bconsoleConfPath, bconsoleConf(c)],
    } as const;
    // 0644: the SD may read its config after dropping to sdUser; the passwords are per run.
    for (const [path, text] of Object.values(confs))
      writeFileSync(path, text, { mode: 0o644 });
    writeFileSync(join(this.root, "dir", "query.sql"), "");
    await createCatalog(
      this.tools.sqlite3,
      join(this.root, "dir", "bacula.db"),
    );

    const sdUser = opts.sdUser
      ? resolveUser(opts.sdUser, opts.sdGroup)
      : undefined;
    if (sdUser) {
      chownSync(join(this.root, "sd"), sdUser.uid, sdUser.gid);
      if (!isAutochanger(c.storage))
        chownSync(c.storage.archiveDevice, sdUser.uid, sdUser.gid);
    }
    const t = this.tools;
    const argvs: [string, string[]][] = [
      ["dir", [t.dir, "-f", "-c", confs.dir[0]]],
      [
        "sd",
        [
          t.sd,
          "-f",
          "-c",
          confs.sd[0],
          ...(sdUser ? ["-u", sdUser.user, "-g", sdUser.group] : []),
          ...(opts.sdDebugLevel ? ["-d", String(opts.sdDebugLevel)] : []),
        ],
      ],
      ["fd", [t.fd, "-f", "-c", confs.fd[0]]],
    ];
    for (const [name, argv] of argvs) {
      // -t parses the config and exits: a config error is reported here, with its line.
      const check = await runTool([...argv.filter((a) => a !== "-f"), "-t"], {
        timeoutMs: 15_000,
      });
      if (check.exitCode !== 0)
        throw new Error(
          `bacula ${name} config rejected:\n${describeFailure(check)}`,
        );
    }
    for (const [name, argv] of argvs) {
      this.daemons.push(
        startDaemon(name, argv, join(this.root, "log", `${name}.out`)),
      );
      // Recorded at once: the watchdog and the stale-dir reaper kill exactly these.
      const daemonPids = this.daemons.map((d) => d.pid);
      writeFileSync(
        join(this.root, "owner.json"),
        JSON.stringify({ ownerPid: process.pid, daemonPids }),
      );
    }
    await this.waitReady(opts.startTimeoutMs ?? 20_000);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ports = {
      dir: this.config.ports.dir,
      sd: this.config.ports.sd,
      fd: this.config.ports.fd,
    };
    let lastStatus = "";
    for (;;) {
      const dead = this.daemons.find((d) => !isRunning(d.pid));
      if (dead)
        throw new Error(
          `bacula ${dead.name} exited during start:\n${this.daemonOutput(dead.name)}`,
        );
      const answers = await Promise.all(Object.values(ports).map(portAnswers));
      if (answers.every(Boolean)) {
        // Through the Director to the SD and FD: proves the addresses and passwords pair up.
        const n = this.names;
        const r = await runTool(
          [this.tools.bconsole, "-n", "-c", this.bconsoleConfPath],
          {
            stdin: `status dir\nstatus storage="${n.storage}"\nstatus client="${n.fileDaemon}"\nquit\n`,
            timeoutMs: 20_000,
          },
        );
        if (
          r.exitCode === 0 &&
          r.stdout.split("Daemon started").length - 1 >= 3
        )
          return;
        lastStatus = r.stdout + r.stderr;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `bacula did not answer within ${timeoutMs} ms (ports ${JSON.stringify(ports)});\n` +
            `--- last status\n${tail(lastStatus)}\n` +
            this.daemons
              .map((d) => `--- ${d.name}.out\n${this.daemonOutput(d.name)}`)
              .join("\n"),
        );
      }
      await Bun.sleep(100);
    }
  }

  daemonOutput(name: string): string {
    const p = join(this.root, "log", `${name}.out`);
    return existsSync(p) ? tail(readFileSync(p, "utf8")) : "";
  }

  /** The Director's message log (every job and daemon message, `append` in Messages). */
  baculaLog(): string {
    const p = join(this.root, "log", "bacula.log");
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }

  /** Runs bconsole with commands on stdin (it exits at EOF); throws on failure or timeout. */
  async bconsole(commands: string, timeoutMs = 60_000): Promise<string> {
    if (this.stopped) throw new Error("bacula harness is stopped");
    const r = await runTool(
      [this.tools.bconsole, "-n", "-c", this.bconsoleConfPath],
      {
        stdin: `${commands.trimEnd()}\nquit\n`,
        timeoutMs,
        running: this.running,
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

  /** Restores everything of the given backup jobs to `where` (default restoreDir); returns the restore JobId. */
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
    const m = /Job queued\. JobId=(\d+)/.exec(out);
    if (!m?.[1]) throw new Error(`job was not queued:\n${tail(out)}`);
    return Number(m[1]);
  }

  /** Waits for a job to end (bounded); on timeout the error carries `status dir` and messages. */
  async waitJob(jobid: number, timeoutMs = 120_000): Promise<JobResult> {
    let out: string;
    try {
      out = await this.bconsole(`wait jobid=${jobid}`, timeoutMs);
    } catch (e) {
      const diag = await this.bconsole("status dir\nmessages", 15_000).catch(
        (d) => String(d),
      );
      throw new Error(
        `job ${jobid} did not end within ${timeoutMs} ms\n${tail(diag)}`,
        { cause: e },
      );
    }
    const m = /JobStatus=(.*) \((.)\)/.exec(out);
    if (!m?.[1] || !m[2])
      throw new Error(`no JobStatus for job ${jobid}:\n${tail(out)}`);
    return { jobid, status: m[2], statusText: m[1], ok: m[2] === "T" };
  }

  /** The job's log from the catalog (`llist joblog`), one entry per message, in order. */
  async jobLog(jobid: number): Promise<string[]> {
    const out = await this.bconsole(`llist joblog jobid=${jobid}`);
    return [...out.matchAll(/^\s*LogText: ([\s\S]*?)\n\\\n/gm)].map((m) =>
      (m[1] ?? "").trimEnd(),
    );
  }

  /** Pending console messages (and clears them). */
  async messages(): Promise<string> {
    return this.bconsole("messages");
  }

  /** Stops every daemon (SIGTERM, then SIGKILL of their process groups) and removes the temp dir. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.running) p.kill("SIGKILL");
    await stopGroups(
      this.daemons.map((d) => d.pid),
      5_000,
    );
    live.delete(this);
    removeRoot(this.root);
    this.stopWatchdog();
  }

  private stopWatchdog(): void {
    if (this.watchdog.pid !== undefined) {
      try {
        process.kill(this.watchdog.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    this.watchdog.stdin?.destroy();
  }

  /** Synchronous last resort for exit hooks. */
  stopNow(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.running) p.kill("SIGKILL");
    for (const d of this.daemons) {
      try {
        process.kill(-d.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    live.delete(this);
    removeRoot(this.root);
    this.stopWatchdog();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export const startBacula = (opts: BaculaOptions) => BaculaHarness.start(opts);
