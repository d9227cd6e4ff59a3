// Builds dist/magchanger. Autoload of .env and bunfig.toml is turned off: the binary runs as
// root from udev and autofs, and a bunfig.toml in the current directory could preload code.
import pkg from "./package.json" with { type: "json" };

const target = process.env.MAGCHANGER_TARGET as
  Bun.Build.CompileTarget | undefined;
const result = await Bun.build({
  entrypoints: ["./src/main.ts"],
  minify: true,
  bytecode: true,
  format: "esm",
  define: {
    MAGCHANGER_VERSION: JSON.stringify(pkg.version),
    MAGCHANGER_BUILD: JSON.stringify(
      `${pkg.version}-${Date.now().toString(36)}`,
    ),
  },
  compile: {
    outfile: "./dist/magchanger",
    autoloadDotenv: false,
    autoloadBunfig: false,
    ...(target ? { target } : {}),
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.error(`built dist/magchanger (version ${pkg.version})`);
