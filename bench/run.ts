// `bun run bench [-- --quick] [--runs N] [--warmup N] [--sizes 10,1000] [--magazines 1,4]
//   [--as USER[:GROUP]] [--binary PATH] [--keep]`, VCHANGER=/path/to/vchanger to add it,
//   MAGCHANGER_PEER=/path/to/magchanger to add another build (before/after).
// Wall time, CPU time (user+sys) and peak memory of the compiled binary for each protocol
// command over changers of 10 to 100,000 volumes, side by side in the same rounds with
// Bacula's disk-changer (and vchanger when given), with A/B ratios per round, and each
// command's own work above the bare start-up of a trivial Bun-compiled program and of
// `magchanger --version` (issues 2 and 14). Run `bun run build` first. Prints markdown tables
// and writes them to bench/results/latest.md.
import { cpus, loadavg, tmpdir } from "node:os";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { type Changer, createChanger, run, spread } from "./fixture.ts";
import { buildFloorBinary } from "./floor.ts";
import { type RunAs, resolveRunAs, spawnIds } from "./identity.ts";
import { type Command, measure, type Summary, TIME } from "./measure.ts";
import {
  diskChanger,
  findDiskChanger,
  otherBuild,
  type Peer,
  protocolCommands,
  rootLoaded,
  vchanger,
} from "./peers.ts";
import { ownWorkTable, resultTable, sideBySideTable } from "./report.ts";

interface Options {
  sizes: number[];
  magazines: number[];
  runs: number;
  warmup: number;
  keep: boolean;
  as: string | undefined;
  binary: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    sizes: [10, 1000, 10_000, 100_000],
    magazines: [1],
    runs: 11,
    warmup: 2,
    keep: false,
    as: undefined,
    binary: undefined,
  };
  const numbers = (value: string | undefined, flag: string) => {
    const list = (value ?? "").split(",").map(Number);
    if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1))
      throw new Error(`${flag} wants positive whole numbers, got "${value}"`);
    return list;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") options.sizes = [10, 1000];
    else if (arg === "--keep") options.keep = true;
    else if (arg === "--as") options.as = argv[++i];
    else if (arg === "--binary") options.binary = argv[++i];
    else if (arg === "--sizes") options.sizes = numbers(argv[++i], arg);
    else if (arg === "--magazines") options.magazines = numbers(argv[++i], arg);
    else if (arg === "--runs") options.runs = numbers(argv[++i], arg)[0] ?? 11;
    else if (arg === "--warmup") {
      options.warmup = Number(argv[++i]);
      if (!Number.isInteger(options.warmup) || options.warmup < 0)
        throw new Error(`--warmup wants a whole number, got "${argv[i]}"`);
    } else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

function commandsFor(
  binary: string,
  floor: string,
  c: Changer,
  loadedSlot: number,
  runAs: RunAs,
): Command[] {
  const ids = spawnIds(runAs);
  const commands: Command[] = [
    { name: "bun-floor", steps: [{ argv: [floor] }] },
    { name: "start-up", steps: [{ argv: [binary, "--version"] }] },
    ...protocolCommands(
      [binary, "changer", c.conf],
      c,
      loadedSlot,
      (n) => join(c.workDir, `drive${n}`),
      c.volumes + 2,
    ),
  ];
  return [
    ...commands.map((command) => ({ ...command, ids })),
    ...rootLoaded(binary, c.conf, c.workDir, loadedSlot, runAs),
  ];
}

function peerCommands(
  peers: Peer[],
  c: Changer,
  loadedSlot: number,
  runAs: RunAs,
): Command[] {
  return peers.flatMap((peer) => [
    {
      name: `${peer.name}:start-up`,
      steps: [peer.floor],
      ids: spawnIds(runAs),
    },
    ...peer
      .prepare(c, loadedSlot, runAs)
      .map((command) => ({ ...command, name: `${peer.name}:${command.name}` })),
  ]);
}

export interface Row {
  volumes: number;
  magazines: number;
  results: Map<string, Summary>;
}

function benchOne(
  binary: string,
  floor: string,
  peers: Peer[],
  c: Changer,
  options: Options,
  runAs: RunAs,
): Row {
  // `loaded` is measured with a volume in the drive: the path that reads the state and the link.
  const loadedSlot = Math.max(1, Math.floor(c.volumes / 2));
  const changer = [binary, "changer", c.conf];
  run([...changer, "load", String(loadedSlot), "", "0"], runAs);
  const results = measure(
    [
      ...commandsFor(binary, floor, c, loadedSlot, runAs),
      ...peerCommands(peers, c, loadedSlot, runAs),
    ],
    options.warmup,
    options.runs,
  );
  run([...changer, "unload", String(loadedSlot), "", "0"], runAs);
  return { volumes: c.volumes, magazines: c.magazines, results };
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

function environment(
  binary: string,
  root: string,
  options: Options,
  loadBefore: string,
  runAs: RunAs,
  peers: Peer[],
  absent: string[],
): string[] {
  const fs = Bun.spawnSync(["df", "--output=fstype", root]).stdout.toString();
  return [
    `magchanger ${run([binary, "--version"]).trim()} (${binary}), built with Bun, measured from Bun ${Bun.version}`,
    `peers in the same rounds: ${peers.map((p) => p.describe).join("; ") || "none"}${absent.length ? `; not measured: ${absent.join("; ")}` : ""}`,
    `${cpus().length} CPU(s) ${cpus()[0]?.model.trim() ?? ""}; temp dir on ${fs.split("\n")[1]?.trim() || "?"}`,
    `every changer run as ${runAs.user}:${runAs.group}, as the storage daemon runs it`,
    `${new Date().toISOString()}; ${options.runs} runs per cell after ${options.warmup} warm-up(s), every command of a size round-robin`,
    `load average before ${loadBefore}, after ${load()} (a busy machine widens the ranges)`,
    "wall: monotonic clock around each spawn; CPU: user+sys of the reaped child (getrusage); load+unload is the two processes together",
    existsSync(TIME)
      ? `peak RSS: largest \`${TIME} -f %M\` of 3 separate runs (the timed runs have no wrapper)`
      : `peak RSS: "?" because ${TIME} is missing (apt-get install time)`,
  ];
}

function findPeers(): { peers: Peer[]; absent: string[] } {
  const peers: Peer[] = [];
  const absent: string[] = [];
  const script = findDiskChanger();
  if (script) peers.push(diskChanger(script));
  else absent.push("disk-changer (apt-get install bacula-sd)");
  const other = process.env.MAGCHANGER_PEER;
  if (other && existsSync(other)) peers.push(otherBuild(resolve(other)));
  const vc = process.env.VCHANGER;
  if (vc && existsSync(vc)) peers.push(vchanger(resolve(vc)));
  else
    absent.push(
      vc
        ? `vchanger (VCHANGER=${vc} does not exist)`
        : "vchanger (give VCHANGER=/path/to/vchanger)",
    );
  return { peers, absent };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const repo = resolve(import.meta.dir, "..");
  const binary = resolve(options.binary ?? join(repo, "dist", "magchanger"));
  if (!existsSync(binary)) {
    console.error(
      `bench: ${binary} is missing; build it first with \`bun run build\``,
    );
    process.exitCode = 2;
    return;
  }
  if (!existsSync(TIME))
    console.error(
      `bench: ${TIME} is missing (apt-get install time): peak RSS is left out`,
    );
  const runAs = resolveRunAs(options.as);
  const { peers, absent } = findPeers();
  for (const why of absent) console.error(`bench: not measured: ${why}`);
  const loadBefore = load();
  const root = mkdtempSync(join(tmpdir(), "magchanger-bench-"));
  chmodSync(root, 0o755);
  const cleanup = () => {
    if (!options.keep) rmSync(root, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    const floor = await buildFloorBinary(root);
    const rows: Row[] = [];
    for (const volumes of options.sizes) {
      for (const magazines of options.magazines) {
        if (spread(volumes, magazines).some((n) => n === 0)) continue;
        const started = performance.now();
        const changer = createChanger(root, binary, volumes, magazines, runAs);
        const made = performance.now();
        rows.push(benchOne(binary, floor, peers, changer, options, runAs));
        console.error(
          `bench: ${volumes} volumes × ${magazines} magazine(s): set up ${((made - started) / 1000).toFixed(1)} s, measured ${((performance.now() - made) / 1000).toFixed(1)} s`,
        );
        if (!options.keep)
          rmSync(changer.dir, { recursive: true, force: true });
        else console.error(`bench: kept ${changer.conf}`);
      }
    }
    const text = [
      "# magchanger benchmark",
      "",
      ...environment(
        binary,
        root,
        options,
        loadBefore,
        runAs,
        peers,
        absent,
      ).map((line) => `- ${line}`),
      "",
      sideBySideTable(
        rows,
        peers.map((p) => p.name),
      ),
      "",
      ownWorkTable(rows),
      "",
      resultTable(rows),
      "",
    ].join("\n");
    process.stdout.write(text);
    const out = join(repo, "bench", "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "latest.md"), text);
    console.error(`bench: written to ${join(out, "latest.md")}`);
  } finally {
    cleanup();
  }
}

await main();
