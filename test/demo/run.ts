// `npm run demo`: a full rotation on temporary magazines, printing what Bacula would see.
// Directory bays (allow_unmounted) so it runs anywhere without root; the tests do the same on
// real ext4 loop devices. `npm run demo -- --real` (root) runs the real thing: test/demo/real.ts;
// `-- --vm` the seed's story on a real kernel in QEMU with virtual USB disks: test/demo/vm.ts.
import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const binary = resolve(import.meta.dir, "../../dist/magchanger");
const me = process.getuid?.() === 0 ? "root" : (process.env.USER ?? "nobody");
const group = process.getuid?.() === 0 ? "root" : me;

function run(root: string, ...args: string[]): string {
  const result = Bun.spawnSync([binary, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = result.stdout.toString() + result.stderr.toString();
  console.log(
    `$ magchanger ${args.join(" ").replaceAll(root, "$DEMO")}  # exit ${result.exitCode}`,
  );
  if (out)
    console.log(out.trimEnd().replaceAll(root, "$DEMO").replace(/^/gm, "  "));
  return result.stdout.toString();
}

if (process.argv.includes("--vm")) {
  const { vmDemo } = await import("./vm.ts");
  process.exitCode = await vmDemo();
} else if (process.argv.includes("--real")) {
  const { realDemo } = await import("./real.ts");
  process.exitCode = await realDemo(process.argv.slice(2));
} else {
  directoryDemo();
}

function directoryDemo(): void {
  const root = mkdtempSync(join(tmpdir(), "magchanger-demo-"));
  const bay = join(root, "mnt/usbchanger1/magazine");
  const config = join(root, "usbchanger1.toml");
  try {
    mkdirSync(bay, { recursive: true });
    writeFileSync(
      config,
      `name = "usbchanger1"\nwork_dir = "${root}/work"\nlog_file = "${root}/usbchanger1.log"\nuser = "${me}"\ngroup = "${group}"\ndrives = 2\n[[magazine]]\npath = "${bay}"\nallow_unmounted = true\n`,
    );
    console.log(
      `# demo root: ${root}\n# 1. prepare the disk in the bay (the seed's initmag) and let Bacula list it`,
    );
    run(root, "magazine", "init", "-c", config, "1", "--volumes", "4");
    run(root, "changer", config, "slots", "0", `${root}/work/drive0`, "0");
    run(root, "changer", config, "list", "0", `${root}/work/drive0`, "0");
    console.log(
      "# 2. Bacula loads slot 2 into drive 0 and opens the drive's Archive Device",
    );
    run(root, "changer", config, "load", "2", `${root}/work/drive0`, "0");
    run(root, "changer", config, "loaded", "0", `${root}/work/drive0`, "0");
    run(root, "changer", config, "listall", "0", `${root}/work/drive0`, "0");
    console.log(
      "# 3. the volume is unloaded; the disk is swapped for a second one",
    );
    run(root, "changer", config, "unload", "2", `${root}/work/drive0`, "0");
    renameSync(bay, `${bay}.disk1`);
    mkdirSync(bay);
    run(root, "magazine", "init", "-c", config, "1", "--volumes", "3");
    run(root, "changer", config, "list", "0", `${root}/work/drive0`, "0");
    console.log(
      "# 4. the first disk comes back: its volumes have the slots they always had",
    );
    renameSync(bay, `${bay}.disk2`);
    renameSync(`${bay}.disk1`, bay);
    run(root, "changer", config, "list", "0", `${root}/work/drive0`, "0");
    run(root, "changer", config, "load", "5", `${root}/work/drive0`, "0");
    run(root, "magazine", "list", "-c", config);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
