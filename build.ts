// Builds dist/magchanger, with the man pages and bash completion rendered from the command
// declarations baked in (setup --write installs them). Autoload of .env and bunfig.toml is
// turned off: the binary runs as root from udev and autofs, and a bunfig.toml in the current
// directory could preload code.
// compileOptions() is shared with bench/, which builds a trivial program the same way to
// measure the runtime's own start-up floor.
import pkg from "./package.json" with { type: "json" };

export function compileOptions(
  entrypoint: string,
  outfile: string,
  target?: Bun.Build.CompileTarget,
  /** The man pages and completion setup installs (src/commands/installed-docs.ts). */
  docs?: Record<string, string>,
): Bun.BuildConfig {
  return {
    entrypoints: [entrypoint],
    minify: true,
    bytecode: true,
    // Each lazily imported command is its own chunk inside the executable: start-up loads the
    // bytecode of main.ts and of the command it runs, not of all of them (bench/build-options.ts:
    // --version 0.53x and `changer ... loaded` 0.74x the CPU time of one bundle, here).
    splitting: true,
    format: "esm",
    define: {
      MAGCHANGER_VERSION: JSON.stringify(pkg.version),
      MAGCHANGER_BUILD: JSON.stringify(
        `${pkg.version}-${Date.now().toString(36)}`,
      ),
      ...(docs ? { MAGCHANGER_DOCS: JSON.stringify(docs) } : {}),
    },
    compile: {
      outfile,
      autoloadDotenv: false,
      autoloadBunfig: false,
      // JavaScriptCore's tier-up thresholds ×10: a changer call is run-once code that the JIT
      // would compile for nothing (--version 0.87x, loaded 0.91x CPU); a 100,000-volume scan
      // measured the same (0.97x), so it is baked in, never set from the environment.
      jitPolicy: 10,
      ...(target ? { target } : {}),
    },
  };
}

if (import.meta.main) {
  const target = process.env.MAGCHANGER_TARGET as
    Bun.Build.CompileTarget | undefined;
  // Rendered from the very declarations and schema the binary is built from: `--help`, the
  // config errors and the installed pages cannot disagree.
  const { COMMANDS } = await import("./src/main.ts");
  const { renderDocs } = await import("./src/commands/manual/docs.ts");
  const docs = await renderDocs(COMMANDS, pkg.version);
  const result = await Bun.build(
    compileOptions("./src/main.ts", "./dist/magchanger", target, docs),
  );
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  console.error(`built dist/magchanger (version ${pkg.version})`);
}
