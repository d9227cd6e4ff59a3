// `bun bench/build-options.ts [--runs N] [--as USER[:GROUP]] [--only a,b]`: what the pinned
// Bun's `bun build --compile` options do to start-up. Builds src/main.ts once per variant
// (build.ts's options plus the variant's change, all with one build id so they share the
// validated-config cache), then times `--version` and the SD's `changer CONF loaded` of a
// 1,000-volume changer for every variant round-robin: wall, CPU (user+sys), binary size.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileOptions } from "../build.ts";
import { createChanger, run } from "./fixture.ts";
import { resolveRunAs, spawnIds } from "./identity.ts";
import { type Command, measure } from "./measure.ts";
import { pairRatio } from "./report.ts";

type Variant = {
  name: string;
  change: (o: Bun.BuildConfig, profiles: string[]) => Bun.BuildConfig;
};
type Compile = Bun.CompileBuildOptions;
const compile = (o: Bun.BuildConfig, extra: Partial<Compile>) => ({
  ...o,
  compile: { ...(o.compile as Compile), ...extra },
});

const VARIANTS: Variant[] = [
  {
    name: "build.ts (minify, bytecode, splitting, jit policy 10)",
    change: (o) => o,
  },
  { name: "no minify", change: (o) => ({ ...o, minify: false }) },
  { name: "no bytecode", change: (o) => ({ ...o, bytecode: false }) },
  {
    name: "bytecode-order (recorded)",
    change: (o, profiles) => compile(o, { bytecodeOrder: profiles }),
  },
  { name: "bytecode depth 0", change: (o) => ({ ...o, bytecodeDepth: 0 }) },
  {
    name: "no bytecode optimization",
    change: (o) => ({ ...o, optimize: { bytecode: false } }),
  },
  { name: "jit policy 1", change: (o) => compile(o, { jitPolicy: 1 }) },
  { name: "sourcemap none", change: (o) => ({ ...o, sourcemap: "none" }) },
  { name: "no splitting", change: (o) => ({ ...o, splitting: false }) },
  {
    name: "jit policy 1, no splitting (the build before issue 14)",
    change: (o) => ({ ...compile(o, { jitPolicy: 1 }), splitting: false }),
  },
];

async function buildVariant(
  variant: Variant,
  outfile: string,
  profiles: string[],
): Promise<void> {
  const base = compileOptions(
    resolve(import.meta.dir, "../src/main.ts"),
    outfile,
  );
  const options = variant.change(
    { ...base, define: { ...base.define, MAGCHANGER_BUILD: '"bench-build"' } },
    profiles,
  );
  const result = await Bun.build(options);
  if (!result.success)
    throw new Error(`${variant.name}: ${result.logs.join("; ")}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = Number(flag("--runs") ?? 15);
  const runAs = resolveRunAs(flag("--as"));
  const only = flag("--only")?.split(",").map(Number);
  const root = mkdtempSync(join(tmpdir(), "magchanger-build-options-"));
  chmodSync(root, 0o755);
  try {
    const plain = join(root, "plain");
    await buildVariant(VARIANTS[0] as Variant, plain, []);
    const c = createChanger(root, plain, 1000, 1, runAs);
    const loaded = (bin: string) => [
      bin,
      "changer",
      c.conf,
      "loaded",
      "0",
      join(c.workDir, "drive0"),
      "0",
    ];
    // The recorded order: the calls the SD makes most, loaded first (build.ts's bytecodeOrder).
    // Recorded as the run-as user (the file is written at exit, after the drop).
    const orders = join(root, "orders");
    mkdirSync(orders, { mode: 0o1777 });
    chmodSync(orders, 0o1777);
    const profiles: string[] = [];
    for (const [i, args] of [
      loaded(plain).slice(1),
      ["changer", c.conf, "list", "0", join(c.workDir, "drive0"), "0"],
      ["--version"],
    ].entries()) {
      const out = join(orders, `order-${i}.txt`);
      Bun.spawnSync([plain, ...args], {
        env: { ...process.env, BUN_BYTECODE_ORDER_OUT: out },
        ...spawnIds(runAs),
      });
      profiles.push(out);
    }
    const chosen = VARIANTS.filter((_, i) => !only || only.includes(i));
    const commands: Command[] = [];
    const sizes = new Map<string, number>();
    for (const [i, v] of chosen.entries()) {
      const bin = join(root, `variant-${i}`);
      await buildVariant(v, bin, profiles);
      sizes.set(v.name, statSync(bin).size);
      run([...loaded(bin).slice(0, 3), "unload", "0", "", "1"], runAs);
      const ids = spawnIds(runAs);
      commands.push(
        {
          name: `${v.name}|--version`,
          steps: [{ argv: [bin, "--version"] }],
          ids,
        },
        { name: `${v.name}|loaded`, steps: [{ argv: loaded(bin) }], ids },
      );
    }
    const results = measure(commands, 2, runs, 1);
    const base = chosen[0]?.name as string;
    const lines = [
      `${runs} runs after 2 warm-ups, round-robin, run as ${runAs.user}:${runAs.group}; medians in ms (wall / CPU); ratio against ${base}, per round`,
      "",
      "| variant | size MiB | --version | ratio | loaded (1,000 volumes) | ratio |",
      "|---|---:|---:|---:|---:|---:|",
    ];
    for (const v of chosen) {
      const cells = ["--version", "loaded"].flatMap((what) => {
        const s = results.get(`${v.name}|${what}`);
        const b = results.get(`${base}|${what}`);
        return [
          `${s?.median.toFixed(1)} / ${s?.cpu.toFixed(1)}`,
          `${pairRatio(s, b, "ms").toFixed(3)} / ${pairRatio(s, b, "cpuMs").toFixed(3)}`,
        ];
      });
      const mib = ((sizes.get(v.name) ?? 0) / 2 ** 20).toFixed(1);
      lines.push(`| ${v.name} | ${mib} | ${cells.join(" | ")} |`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
