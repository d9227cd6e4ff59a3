// Writes the Bacula configs and catalog into a Scratch, starts the three daemons and waits
// until the Director reaches the SD and the FD. Why each step: see the top of harness.ts.
import { chownSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  bconsoleConf,
  type ConfigInput,
  directorConf,
  fileDaemonConf,
  isAutochanger,
  storageDaemonConf,
} from "./configs.ts";
import {
  type Daemon,
  describeFailure,
  isRunning,
  runTool,
  startDaemon,
  tail,
} from "./processes.ts";
import type { Scratch } from "./scratch.ts";
import {
  type baculaTools,
  createCatalog,
  portAnswers,
  resolveUser,
} from "./setup.ts";

export interface LaunchOptions {
  /** Run-as user/group of the SD (`-u`/`-g`); default: stays root. */
  sdUser?: string;
  sdGroup?: string;
  /** `-d` debug level for the SD (its output goes to log/sd.out). */
  sdDebugLevel?: number;
  /** Default 20 s. */
  startTimeoutMs?: number;
}

export interface LaunchContext {
  scratch: Scratch;
  config: ConfigInput;
  tools: ReturnType<typeof baculaTools>;
  bconsoleConfPath: string;
  /** Where started daemons are added as soon as they exist. */
  daemons: Daemon[];
  /** In-flight tool processes, for the owner to kill on stop. */
  running: Set<Bun.Subprocess>;
}

export function daemonOutput(root: string, name: string): string {
  const p = join(root, "log", `${name}.out`);
  return existsSync(p) ? tail(readFileSync(p, "utf8")) : "";
}

export async function launchBacula(
  ctx: LaunchContext,
  opts: LaunchOptions,
): Promise<void> {
  const { config: c, tools: t } = ctx;
  const root = ctx.scratch.root;
  const confs = {
    dir: [join(root, "bacula-dir.conf"), directorConf(c)],
    sd: [join(root, "bacula-sd.conf"), storageDaemonConf(c)],
    fd: [join(root, "bacula-fd.conf"), fileDaemonConf(c)],
    con: [ctx.bconsoleConfPath, bconsoleConf(c)],
  } as const;
  // 0644: a non-root SD, and magchanger refresh as the run-as user, read these; the
  // passwords are random per run and only valid on loopback.
  for (const [path, text] of Object.values(confs))
    writeFileSync(path, text, { mode: 0o644 });
  writeFileSync(join(root, "dir", "query.sql"), "");
  await createCatalog(t.sqlite3, join(root, "dir", "bacula.db"));

  const sdUser = opts.sdUser
    ? resolveUser(opts.sdUser, opts.sdGroup)
    : undefined;
  if (sdUser) {
    chownSync(join(root, "sd"), sdUser.uid, sdUser.gid);
    if (!isAutochanger(c.storage))
      chownSync(c.storage.archiveDevice, sdUser.uid, sdUser.gid);
  }
  const sdArgs = [
    ...(sdUser ? ["-u", sdUser.user, "-g", sdUser.group] : []),
    ...(opts.sdDebugLevel ? ["-d", String(opts.sdDebugLevel)] : []),
  ];
  const argvs: [string, string[]][] = [
    ["fd", [t.fd, "-f", "-c", confs.fd[0]]],
    ["sd", [t.sd, "-f", "-c", confs.sd[0], ...sdArgs]],
    ["dir", [t.dir, "-f", "-c", confs.dir[0]]],
  ];
  for (const [name, argv] of argvs) {
    const check = await runTool([...argv.filter((a) => a !== "-f"), "-t"], {
      timeoutMs: 15_000,
    });
    if (check.exitCode !== 0)
      throw new Error(
        `bacula ${name} config rejected:\n${describeFailure(check)}`,
      );
  }
  for (const [name, argv] of argvs) {
    const daemon = startDaemon(name, argv, join(root, "log", `${name}.out`));
    ctx.daemons.push(daemon);
    ctx.scratch.addDaemon(daemon.pid);
  }
  await waitReady(ctx, opts.startTimeoutMs ?? 20_000);
}

async function waitReady(ctx: LaunchContext, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { ports, names: n } = ctx.config;
  const root = ctx.scratch.root;
  let lastStatus = "";
  for (;;) {
    const dead = ctx.daemons.find((d) => !isRunning(d.pid));
    if (dead)
      throw new Error(
        `bacula ${dead.name} exited during start:\n${daemonOutput(root, dead.name)}`,
      );
    const answers = await Promise.all(
      [ports.dir, ports.sd, ports.fd].map(portAnswers),
    );
    if (answers.every(Boolean)) {
      const r = await runTool(
        [ctx.tools.bconsole, "-n", "-c", ctx.bconsoleConfPath],
        {
          stdin: `status dir\nstatus storage="${n.storage}"\nstatus client="${n.fileDaemon}"\nquit\n`,
          timeoutMs: 20_000,
          running: ctx.running,
        },
      );
      // One "Daemon started" per daemon: the Director reached the SD and FD with the passwords.
      if (r.exitCode === 0 && r.stdout.split("Daemon started").length - 1 >= 3)
        return;
      lastStatus = r.stdout + r.stderr;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `bacula did not answer within ${timeoutMs} ms (ports ${JSON.stringify(ports)})\n` +
          `--- last status\n${tail(lastStatus)}\n` +
          ctx.daemons
            .map((d) => `--- ${d.name}.out\n${daemonOutput(root, d.name)}`)
            .join("\n"),
      );
    }
    await Bun.sleep(100);
  }
}
