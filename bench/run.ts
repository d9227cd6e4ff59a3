// `bun run bench [-- --quick] [--runs N] [--warmup N] [--sizes 10,1000] [--magazines 1,4]
//   [--as USER[:GROUP]] [--binary PATH] [--keep]`
// Wall time and peak memory of the compiled binary for each protocol command, over changers of
// 10 to 100,000 volumes on 1 and 4 magazines (issue 2, "Performance"). Builds nothing: run
// `bun run build` first. Prints a markdown table and writes it to bench/results/latest.md.
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
import { type RunAs, resolveRunAs, spawnIds } from "./identity.ts";
import { type Command, measure, type Summary, TIME } from "./measure.ts";
import { comparisonTable, resultTable } from "./report.ts";

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
    magazines: [1, 4],
    runs: 15,
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
    else if (arg === "--runs") options.runs = numbers(argv[++i], arg)[0] ?? 15;
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
  c: Changer,
  loadedSlot: number,
  runAs: RunAs,
): Command[] {
  const changer = [binary, "changer", c.conf];
  const drive = (n: number) => join(c.workDir, `drive${n}`);
  const lineCount = (want: number) => (out: string) => {
    const got = out.split("\n").length - 1;
    return got === want ? undefined : `printed ${got} lines, expected ${want}`;
  };
  const exactly = (want: string) => (out: string) =>
    out === want
      ? undefined
      : `printed "${out.slice(0, 40)}", expected "${want}"`;
  const silent = exactly("");
  // The volume load+unload moves lives on the last magazine (the last bay locateMagazine tries).
  const pairSlot = c.volumes;
  const ids = spawnIds(runAs);
  const commands: Command[] = [
    { name: "start-up", steps: [{ argv: [binary, "--version"] }] },
    {
      name: "list",
      steps: [{ argv: [...changer, "list"], check: lineCount(c.volumes) }],
    },
    {
      name: "listall",
      steps: [
        { argv: [...changer, "listall"], check: lineCount(c.volumes + 2) },
      ],
    },
    {
      name: "loaded",
      steps: [
        {
          argv: [...changer, "loaded", "0", drive(0), "0"],
          check: exactly(`${loadedSlot}\n`),
        },
      ],
    },
    {
      name: "load+unload",
      steps: [
        {
          argv: [...changer, "load", String(pairSlot), drive(1), "1"],
          check: silent,
        },
        {
          argv: [...changer, "unload", String(pairSlot), drive(1), "1"],
          check: silent,
        },
      ],
    },
    {
      name: "slots",
      steps: [
        { argv: [...changer, "slots"], check: exactly(`${c.volumes}\n`) },
      ],
    },
  ];
  return commands.map((command) => ({ ...command, ids }));
}

export interface Row {
  volumes: number;
  magazines: number;
  results: Map<string, Summary>;
}

function benchOne(
  binary: string,
  c: Changer,
  options: Options,
  runAs: RunAs,
): Row {
  // `loaded` is measured with a volume in the drive: the path that reads the state and the link.
  const loadedSlot = Math.max(1, Math.floor(c.volumes / 2));
  const changer = [binary, "changer", c.conf];
  run([...changer, "load", String(loadedSlot), "", "0"], runAs);
  const results = measure(
    commandsFor(binary, c, loadedSlot, runAs),
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
): string[] {
  const fs = Bun.spawnSync(["df", "--output=fstype", root]).stdout.toString();
  return [
    `magchanger ${run([binary, "--version"]).trim()} (${binary}), built with Bun, measured from Bun ${Bun.version}`,
    `${cpus().length} CPU(s) ${cpus()[0]?.model.trim() ?? ""}; temp dir on ${fs.split("\n")[1]?.trim() || "?"}`,
    `changer run as ${runAs.user}:${runAs.group}${runAs.user === "root" ? " (root never uses the validated-config cache; the SD's non-root calls do: --as bacula:tape)" : ""}`,
    `${new Date().toISOString()}; ${options.runs} runs per cell after ${options.warmup} warm-up(s), commands round-robin`,
    `load average before ${loadBefore}, after ${load()} (a busy machine widens the ranges)`,
    "cells: median wall ms (min–max) · peak RSS MiB; load+unload is the two processes together",
    existsSync(TIME)
      ? `peak RSS: largest \`${TIME} -f %M\` of 3 separate runs (the timed runs have no wrapper)`
      : `peak RSS: "?" because ${TIME} is missing (apt-get install time)`,
  ];
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
    const rows: Row[] = [];
    for (const volumes of options.sizes) {
      for (const magazines of options.magazines) {
        if (spread(volumes, magazines).some((n) => n === 0)) continue;
        const started = performance.now();
        const changer = createChanger(root, binary, volumes, magazines, runAs);
        const made = performance.now();
        rows.push(benchOne(binary, changer, options, runAs));
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
      ...environment(binary, root, options, loadBefore, runAs).map(
        (line) => `- ${line}`,
      ),
      "",
      resultTable(rows),
      "",
      comparisonTable(rows),
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
