// The machinery of the root-reads walk (root-reads.test.ts): the changer every inventory entry
// is walked against (root's config; the work dir, log dir, a bay and the storage daemon's config
// the attacker's), where each entry lives in it, the argv of each root command, the root-only
// file a link points at, and one run of the compiled binary as root with its peak memory.
import { expect } from "bun:test";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RootCommand, RootRead } from "../../src/doctor/root-reads.ts";
import type { RootCase, rootCases } from "../helpers/root-case.ts";
import { BASE_ENV, ensureBinary, tool } from "../helpers/run.ts";

/** How long a command may run before it counts as hung. */
export const BOUND_MS = 10_000;

export const PLANTS = [
  "fifo",
  "link to /dev/zero",
  "link to a root-only file",
  "1 GiB file",
] as const;
export type Plant = (typeof PLANTS)[number];

/** What the walk's helpers share: the cases (the attacker in them) and the mounts to undo. */
export interface Walk {
  cases: ReturnType<typeof rootCases>;
  mounts: string[];
  /** Runs argv as the attacker. */
  as: (argv: string[]) => void;
}

function readFileOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export async function isMountPoint(dir: string): Promise<boolean> {
  const text = await Bun.file("/proc/self/mountinfo").text();
  return text.split("\n").some((l) => l.split(" ")[4] === dir);
}

/** The changer every entry is walked against: root's config, the attacker's everything else. */
export interface Fixture {
  c: RootCase;
  conf: string;
  work: string;
  logs: string;
  bay1: string;
  bay2: string;
  sd: string;
  dir: string;
  sdInclude: string;
  evil: string;
  /** luks.mapper, which unlock --remove names. */
  mapper: string;
}

export async function makeFixture(w: Walk): Promise<Fixture> {
  const { cases } = w;
  const c = cases.newCase();
  const script = (name: string, body: string) => {
    const path = join(c.dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const status = join(
    import.meta.dir,
    "../bacula/fixtures/sd-status-blocked-mount.txt",
  );
  const bconsole = script("bconsole", `cat > /dev/null\ncat ${status}`);
  const notifier = script("notifier", "cat > /dev/null");
  const cryptsetup = script("cryptsetup", "exit 4");
  const bconsoleConf = join(c.dir, "bconsole.conf");
  writeFileSync(bconsoleConf, "# no Director: bconsole is a fake\n");
  const work = cases.attackerDir(join(c.dir, "work"));
  const logs = cases.attackerDir(join(c.dir, "logs"));
  const evil = cases.attackerDir(join(c.dir, "evil"));
  const bay1 = join(c.dir, "bay1");
  const bay2 = cases.attackerDir(join(c.dir, "bay2"));
  tool(["mkdir", "--", bay1]);
  const conf = join(c.dir, "rr.toml");
  writeFileSync(
    conf,
    `name = "rr"\nwork_dir = "${work}"\nlog_file = "${logs}/rr.log"\n${cases.runAsLines()}drives = 1\n` +
      `[[magazine]]\npath = "${bay1}"\n[[magazine]]\npath = "${bay2}"\nallow_unmounted = true\n` +
      `[luks]\nmapper = "rr${cases.number()}"\n` +
      `[bacula]\nbconsole = "${bconsole}"\nconfig = "${bconsoleConf}"\ntimeout = 20\n` +
      `[notify]\ncommand = ["${notifier}"]\ntimeout = 20\n` +
      `[tools]\ncryptsetup = "${cryptsetup}"\n`,
    { mode: 0o644 },
  );
  // Debian's bacula-sd.conf is bacula's in root's /etc/bacula: the attacker writes what it says.
  const sdInclude = join(evil, "sd-include.conf");
  const sd = join(c.dir, "bacula-sd.conf");
  writeFileSync(
    sd,
    `Autochanger {\n  Name = "rr"\n  Device = "rr-drive-0"\n  Changer Command = "/usr/local/bin/magchanger changer %c %o %S %a %d"\n  Changer Device = "${conf}"\n}\n` +
      `Device {\n  Name = "rr-drive-0"\n  Drive Index = 0\n  Archive Device = "${work}/drive0"\n}\n@${sdInclude}\n`,
    { mode: 0o640 },
  );
  tool(["chown", `${cases.attacker().uid}:${cases.attacker().gid}`, sd]);
  const dir = join(c.dir, "bacula-dir.conf");
  writeFileSync(dir, `Storage {\n  Name = "rr"\n  Password = "x"\n}\n`);
  const f = {
    c,
    conf,
    work,
    logs,
    bay1,
    bay2,
    sd,
    dir,
    sdInclude,
    evil,
    mapper: `rr${cases.number()}`,
  };
  await ensureDisk(w, f);
  return f;
}

/** Bay 1 holds a magazine on a tmpfs of its own (eject unmounts it: then it is made again). */
export async function ensureDisk(w: Walk, f: Fixture): Promise<void> {
  if (await isMountPoint(f.bay1)) return;
  tool(["mount", "-t", "tmpfs", "-o", "size=4m", "--", "rrdisk", f.bay1]);
  w.mounts.push(f.bay1);
  const r = await runAsRoot([
    "magazine",
    "init",
    "-c",
    f.conf,
    "1",
    "--volumes",
    "2",
  ]);
  expect(r.code).toBe(0);
}

/** Bay 2 empty again (magazine init there makes a magazine of it). */
export function emptyBay2(f: Fixture): void {
  for (const name of readdirSync(f.bay2))
    tool(["rm", "-rf", "--", join(f.bay2, name)]);
}

export interface Run {
  code: number;
  signal: string | null;
  output: string;
  rss: number;
  ms: number;
}

export async function runAsRoot(
  argv: string[],
  env: Record<string, string> = {},
  rssLimit = 512 * 1024 * 1024,
): Promise<Run> {
  const started = performance.now();
  const child = Bun.spawn([ensureBinary(), ...argv], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...BASE_ENV, ...env },
    timeout: BOUND_MS,
    killSignal: "SIGKILL",
  });
  // Its peak RSS (VmHWM) while it runs. An unbounded read grows by gigabytes a second: it is
  // stopped at the limit, not at the time bound.
  let peak = 0;
  const watch = setInterval(() => {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(
      readFileOr(`/proc/${child.pid}/status`),
    )?.[1];
    peak = Math.max(peak, Number(hwm ?? 0) * 1024);
    if (peak > rssLimit) child.kill("SIGKILL");
  }, 50);
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  const code = await child.exited;
  clearInterval(watch);
  return {
    code,
    signal: child.signalCode === null ? null : String(child.signalCode),
    output: out + err,
    // Polled, not resourceUsage(): its maxRSS is the largest of every child this test
    // process ever reaped, not this one's.
    rss: peak,
    ms: performance.now() - started,
  };
}

/** Where an entry lives in the fixture, and what changes about the commands for it. */
export interface Place {
  path: string;
  /** The config the commands are given (the planted one for CONFIG). */
  conf?: string;
  /** MAGCHANGER_CONFIG_DIR for unlock and automap. */
  configDir?: string;
  /** The bay `magazine init` is run on. */
  bay: 1 | 2;
  /** What must be in place besides the plant for the file to be read at all. */
  prepare?: () => void;
  /** The file status --prometheus is told to write. */
  metrics?: string;
}

const EVENT_ID = "000001780000000-1-0000000001";
function queueEvent(w: Walk, f: Fixture): void {
  const as = w.as;
  const text = join(f.evil, "event");
  writeFileSync(
    text,
    `${JSON.stringify({ kind: "refresh-failed", error: "x", at: "2026-01-01T00:00:00.000Z" })}\n`,
  );
  as(["mkdir", "-p", "--", join(f.work, "events")]);
  as(["cp", "--", text, join(f.work, "events", `${EVENT_ID}.json`)]);
}

export function placeOf(w: Walk, entry: RootRead, f: Fixture): Place {
  const as = w.as;
  const [head] = entry.path.split(" ");
  const events = join(f.work, "events");
  const inEvents = (name: string): Place => ({
    path: join(events, name),
    bay: 1,
    prepare: () => as(["mkdir", "-p", "--", events]),
  });
  if (head === "CONFIG")
    return {
      path: join(f.evil, "rr.toml"),
      conf: join(f.evil, "rr.toml"),
      bay: 1,
    };
  if (head === "CONFIG_DIR/*.toml")
    return { path: join(f.evil, "rr.toml"), configDir: f.evil, bay: 1 };
  if (head === "WORK_DIR/events/ID.json") return inEvents(`${EVENT_ID}.json`);
  if (head === "WORK_DIR/events/ID.attempt")
    return {
      ...inEvents(`${EVENT_ID}.attempt`),
      prepare: () => queueEvent(w, f),
    };
  if (head?.startsWith("WORK_DIR/events/"))
    return inEvents(head.slice("WORK_DIR/events/".length));
  if (head?.startsWith("WORK_DIR/"))
    return { path: join(f.work, head.slice("WORK_DIR/".length)), bay: 1 };
  if (head === "LOG_FILE") return { path: join(f.logs, "rr.log"), bay: 1 };
  // Root is to write it into the attacker's directory: refused, whatever is planted there.
  if (head === "METRICS_FILE") {
    const path = join(f.evil, "rr.prom");
    return { path, metrics: path, bay: 1 };
  }
  if (head === "BAY/.magchanger-UUID/magazine.json") {
    const id = readdirSync(f.bay1).find((n) => n.startsWith(".magchanger-"));
    return {
      path: join(f.bay1, id ?? ".magchanger-?", "magazine.json"),
      bay: 1,
    };
  }
  if (head === "BAY/index,") return { path: join(f.bay2, "index"), bay: 2 };
  if (head === "SD_CONFIG") return { path: f.sdInclude, bay: 1 };
  throw new Error(
    `the walk does not know where to plant ${entry.path}: teach placeOf() in ${import.meta.file}`,
  );
}

export function argvOf(
  command: RootCommand,
  f: Fixture,
  p: Place,
): { argv: string[]; env: Record<string, string> } {
  const conf = p.conf ?? f.conf;
  const env: Record<string, string> = p.configDir
    ? { MAGCHANGER_CONFIG_DIR: p.configDir }
    : {};
  const byCommand: Record<RootCommand, string[]> = {
    doctor: [
      "doctor",
      "-c",
      conf,
      "--sd-config",
      f.sd,
      "--dir-config",
      f.dir,
      "--json",
    ],
    refresh: ["refresh", "-c", conf],
    "refresh --if-pending": ["refresh", "--if-pending", "-c", conf],
    "magazine list": ["magazine", "list", "-c", conf],
    "magazine init": [
      "magazine",
      "init",
      "-c",
      conf,
      String(p.bay),
      "--volumes",
      "1",
    ],
    "magazine rename": ["magazine", "rename", "-c", conf, "1", "Planted"],
    status: ["status", "-c", conf],
    "status --prometheus": [
      "status",
      "-c",
      conf,
      "--prometheus",
      p.metrics ?? join(f.c.dir, "rr.prom"),
    ],
    check: ["check", "-c", conf],
    where: ["where", "-c", conf, "rr_0001_0001"],
    changer: ["changer", conf, "list"],
    eject: ["eject", "-c", conf, "1"],
    unlock: p.configDir
      ? ["unlock", "--remove", "/dev/sdz9", f.mapper]
      : ["unlock", "--remove", "-c", conf, "/dev/sdz9"],
    automap: p.configDir
      ? ["automap", "magazine"]
      : ["automap", "-c", conf, "magazine"],
    setup: ["setup", "-c", conf],
  };
  return { argv: byCommand[command], env };
}

/** The root-only file a link points at: a version of the entry's file that shows the token. */
export function secretFor(entry: RootRead, f: Fixture, token: string): string {
  const [head] = entry.path.split(" ");
  const samples: Record<string, string> = {
    "WORK_DIR/refresh.json": JSON.stringify({
      version: 1,
      told: "x",
      barcodes: [token],
      withData: [token],
    }),
    "WORK_DIR/magazines.json": JSON.stringify({
      version: 1,
      magazines: [
        {
          uuid: "7b7f0000-1111-2222-3333-444455556666",
          number: 7,
          name: token,
          attached: false,
        },
      ],
    }),
    "WORK_DIR/events/ID.json": JSON.stringify({
      kind: "refresh-failed",
      error: token,
      at: "2026-01-01T00:00:00.000Z",
    }),
    SD_CONFIG: `Autochanger {\n  Name = "${token}"\n  Device = "${token}"\n  Changer Device = "${f.conf}"\n}\n`,
    CONFIG: `name = "${token}"\nwork_dir = "${f.work}"\n`,
  };
  const path = join(f.c.victim, "secret");
  writeFileSync(path, `${samples[head ?? ""] ?? token}\n`, { mode: 0o600 });
  return path;
}

export function plant(w: Walk, kind: Plant, at: string, secret: string): void {
  const as = w.as;
  as(["rm", "-rf", "--", at]);
  if (kind === "fifo") as(["mkfifo", "--", at]);
  else if (kind === "link to /dev/zero")
    as(["ln", "-s", "--", "/dev/zero", at]);
  else if (kind === "link to a root-only file")
    as(["ln", "-s", "--", secret, at]);
  else as(["truncate", "-s", "1G", "--", at]);
}
