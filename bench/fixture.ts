// Throw-away changers for the benchmark: directory bays (allow_unmounted), the bench's run-as
// identity in the config, N volumes spread over M magazines, registered by one warm-up `list`.
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type RunAs, spawnIds } from "./identity.ts";

/** Up to this many volumes per magazine, `magazine init --volumes N` creates them (the real path). */
const INIT_LIMIT = 1000;

export interface Changer {
  volumes: number;
  magazines: number;
  dir: string;
  conf: string;
  workDir: string;
  /** The magazine directories (bays), in config order. */
  bays: string[];
}

/** Runs the binary to completion; throws with its stderr when it fails. */
export function run(argv: string[], runAs?: RunAs): string {
  const result = Bun.spawnSync(argv, {
    stdout: "pipe",
    stderr: "pipe",
    ...spawnIds(runAs),
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `\`${argv.join(" ")}\` exited ${result.exitCode ?? result.signalCode}: ${result.stderr.toString().trim()}`,
    );
  }
  return result.stdout.toString();
}

/** Splits n volumes over m magazines as evenly as possible. */
export function spread(n: number, m: number): number[] {
  return Array.from(
    { length: m },
    (_, i) => Math.floor(n / m) + (i < n % m ? 1 : 0),
  );
}

export function createChanger(
  root: string,
  binary: string,
  volumes: number,
  magazines: number,
  runAs: RunAs,
  name = `v${volumes}-m${magazines}`,
): Changer {
  const dir = join(root, name);
  const workDir = join(dir, "work");
  const conf = join(dir, "changer.toml");
  const bays = spread(volumes, magazines).map((count, i) => ({
    path: join(dir, `bay${i + 1}`),
    count,
  }));
  for (const bay of bays) mkdirSync(bay.path, { recursive: true });
  const logDir = join(dir, "log");
  mkdirSync(workDir);
  mkdirSync(logDir);
  chmodSync(dir, 0o755);
  // The work dir, the log dir and the bays belong to the run-as user, as setup and init leave
  // them; the directory of the config stays root's (root uses only a config root controls).
  const chown = () =>
    runAs.ids &&
    run([
      "chown",
      "-R",
      `${runAs.ids.uid}:${runAs.ids.gid}`,
      workDir,
      logDir,
      ...bays.map((bay) => bay.path),
    ]);
  chown();
  const lines = [
    `name = "bench"`,
    `work_dir = "${workDir}"`,
    `log_file = "${join(logDir, "changer.log")}"`,
    `log_level = "info"`,
    `user = "${runAs.user}"`,
    `group = "${runAs.group}"`,
    `drives = 2`,
    ...bays.flatMap((bay) => [
      "",
      "[[magazine]]",
      `path = "${bay.path}"`,
      "allow_unmounted = true",
    ]),
  ];
  writeFileSync(conf, `${lines.join("\n")}\n`);
  bays.forEach((bay, i) => {
    const small = bay.count <= INIT_LIMIT;
    run([
      binary,
      "magazine",
      "init",
      "-c",
      conf,
      String(i + 1),
      "--volumes",
      String(small ? bay.count : 0),
    ]);
    // Past what init may create (9999 by name), legal barcodes written directly: the
    // changer registers them on the warm-up `list`, as it would files copied onto a disk.
    if (!small) {
      const prefix = join(bay.path, `bench_${String(i + 1).padStart(4, "0")}_`);
      for (let v = 1; v <= bay.count; v++)
        closeSync(openSync(`${prefix}${String(v).padStart(6, "0")}`, "wx"));
    }
  });
  chown();
  const changer = {
    volumes,
    magazines,
    dir,
    conf,
    workDir,
    bays: bays.map((bay) => bay.path),
  };
  run([binary, "changer", conf, "list"], runAs);
  const slots = Number(run([binary, "changer", conf, "slots"], runAs).trim());
  if (slots !== volumes)
    throw new Error(
      `${conf}: expected ${volumes} slots, changer says ${slots}`,
    );
  return changer;
}
