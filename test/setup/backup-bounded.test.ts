// setup --write backs up a daemon config before appending its include line. On Debian
// bacula-sd.conf is bacula's, so the storage daemon's user can change it between setup's bounded
// read and the backup: the backup must be the text that was read (and edited), not a second,
// unbounded read of whatever the file has become (a sparse file of gigabytes).
// The growth in between is made deterministic by wrapping the bounded read (spyOn): it returns
// what it read, then grows the file as that user would.
import { afterAll, afterEach, expect, spyOn, test } from "bun:test";
import {
  mkdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { applyPlan } from "../../src/setup/apply.ts";
import { planSetup } from "../../src/setup/plan.ts";
import * as safeFs from "../../src/state/safe-fs.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const root = process.getuid?.() === 0;
const dirs: string[] = [];
const spies: { mockRestore(): void }[] = [];
afterEach(() => {
  for (const spy of spies.splice(0)) spy.mockRestore();
});
afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

const GROWN = 64 * 1024 * 1024;

test("the daemon config's backup is the bounded text setup read, though the file grew in between", () => {
  const prefix = makeTempDir("setup-backup");
  dirs.push(prefix);
  const sd = join(prefix, "etc/bacula/bacula-sd.conf");
  mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
  const original = "Storage {\n  Name = sd\n}\n";
  writeFileSync(sd, original, { mode: 0o640 });
  let grown = false;
  const grow = (path: unknown) => {
    if (path !== sd || grown) return;
    grown = true;
    truncateSync(sd, GROWN); // sparse, as the daemon's user could make it
  };
  for (const name of ["readFileBounded", "readTextBounded"] as const) {
    const real = safeFs[name] as (...a: unknown[]) => unknown;
    spies.push(
      spyOn(safeFs, name).mockImplementation(((...args: unknown[]) => {
        const result = real(...args);
        grow(args[0]);
        return result;
      }) as never),
    );
  }
  const owner = root ? 'user = "root"\ngroup = "root"' : "";
  const config = parseConfigText(
    `name = "c1"\ndrives = 1\n${owner}\n[[magazine]]\npath = "/mnt/c1/magazine"\n`,
    "/etc/magchanger/c1.toml",
  );
  const outcomes = applyPlan(
    planSetup({
      config,
      configPath: "/etc/magchanger/c1.toml",
      binary: "/usr/local/bin/magchanger",
      mediaType: "c1",
    }),
    { prefix, root },
  );
  expect(grown).toBe(true);
  const outcome = outcomes.find((o) => o.path === sd);
  expect(outcome).toMatchObject({
    status: "changed",
    backup: `${sd}.magchanger-bak`,
  });
  expect(statSync(`${sd}.magchanger-bak`).size).toBe(original.length);
  expect(readFileSync(`${sd}.magchanger-bak`, "utf8")).toBe(original);
  expect(statSync(`${sd}.magchanger-bak`).mode & 0o7777).toBe(0o640);
});
