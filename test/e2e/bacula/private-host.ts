// A private copy of this host for a test that runs a how-to's commands as written, into /etc,
// /var, /usr/local, /mnt and /dev, without touching the real ones: a mount, network and pid
// namespace (unshare) in which /etc is a copy of the host's and /var, /usr/local, /mnt, /run and
// /dev are overlays whose changes land in the Scratch. The network namespace has its own
// loopback, so daemons bind their default ports (9101-9103) without meeting anyone's. Every
// process started inside dies with the namespace's first process, which the Scratch records
// (killed by cleanup, by its watchdog, or by the next run's reaper); the mounts die with it.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Daemon,
  describeFailure,
  runTool,
  startDaemon,
  type ToolResult,
} from "./processes.ts";
import type { Scratch } from "./scratch.ts";

const OVERLAID = ["var", "usr/local", "mnt", "run", "dev"];

export const HOST_ENV: Record<string, string> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C",
  HOME: "/root",
};

export interface InsideOptions {
  cwd?: string;
  stdin?: string;
  timeoutMs?: number;
}

export class PrivateHost {
  private constructor(
    private readonly scratch: Scratch,
    /** The namespace's first process (pid 1 inside), as the host numbers it. */
    private readonly init: number,
  ) {}

  static async start(scratch: Scratch): Promise<PrivateHost> {
    const root = scratch.root;
    await must(
      runTool(["cp", "-a", "--", "/etc", join(root, "etc")], {
        timeoutMs: 60_000,
      }),
    );
    for (const dir of OVERLAID)
      for (const part of ["upper", "work"])
        mkdirSync(join(root, "overlay", dir, part), { recursive: true });
    const holder = startDaemon(
      "private-host",
      [
        "unshare",
        "--mount",
        "--net",
        "--pid",
        "--kill-child",
        `--wd=${root}`,
        "--",
        "sleep",
        "infinity",
      ],
      join(root, "private-host.out"),
    );
    scratch.addDaemon(holder.pid);
    const host = new PrivateHost(scratch, await forkedChild(holder));
    await host.must(["mount", "--bind", "--", join(root, "etc"), "/etc"]);
    for (const dir of OVERLAID) {
      const o = join(root, "overlay", dir);
      await host.must([
        "mount",
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=/${dir},upperdir=${o}/upper,workdir=${o}/work`,
        `/${dir}`,
      ]);
    }
    await host.must(["ip", "link", "set", "lo", "up"]);
    return host;
  }

  /** Where a file written inside below an overlaid directory (/var/tmp/x) is kept in the Scratch. */
  upper(path: string): string {
    const dir = OVERLAID.find((d) => path.startsWith(`/${d}/`));
    if (!dir) throw new Error(`${path} is not below an overlaid directory`);
    return join(
      this.scratch.root,
      "overlay",
      dir,
      "upper",
      path.slice(dir.length + 2),
    );
  }

  private argv(argv: string[], cwd = "/"): string[] {
    const t = String(this.init);
    return [
      "nsenter",
      "-t",
      t,
      "-m",
      "-n",
      "-p",
      `--wdns=${cwd}`,
      "--",
      ...argv,
    ];
  }

  run(argv: string[], opts: InsideOptions = {}): Promise<ToolResult> {
    return runTool(this.argv(argv, opts.cwd), {
      env: HOST_ENV,
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
    });
  }

  async must(argv: string[], opts: InsideOptions = {}): Promise<ToolResult> {
    return must(this.run(argv, opts));
  }

  /** A long-running process inside (its own process group, output to a file), recorded for cleanup. */
  daemon(name: string, argv: string[]): Daemon {
    const d = startDaemon(
      name,
      this.argv(argv, this.scratch.root),
      join(this.scratch.root, `${name}.out`),
    );
    this.scratch.addDaemon(d.pid);
    return d;
  }
}

async function must(result: Promise<ToolResult>): Promise<ToolResult> {
  const r = await result;
  if (r.exitCode !== 0 || r.timedOut) throw new Error(describeFailure(r));
  return r;
}

/** unshare --fork's child: the namespace's pid 1. */
async function forkedChild(holder: Daemon): Promise<number> {
  for (let i = 0; i < 200; i++) {
    try {
      const kids = readFileSync(
        `/proc/${holder.pid}/task/${holder.pid}/children`,
        "utf8",
      ).trim();
      if (kids) return Number(kids.split(" ")[0]);
    } catch {
      // not yet, or gone
    }
    await Bun.sleep(25);
  }
  throw new Error(
    `unshare (pid ${holder.pid}) started no namespace; see private-host.out`,
  );
}
