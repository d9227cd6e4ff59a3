// The Bacula stanzas setup writes are accepted by the real Bacula 9.6 daemons: `bacula-sd -t` and
// `bacula-dir -t` on minimal configs in a temp dir that include them (no /etc/bacula state used).
import { skipUnless } from "../helpers/capabilities.ts";
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { applyPlan } from "../../src/setup/apply.ts";
import { installPaths } from "../../src/config/layout.ts";
import { planSetup } from "../../src/setup/plan.ts";
import { exec } from "../../src/system/exec.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const SD = "/usr/sbin/bacula-sd";
const DIR = "/usr/sbin/bacula-dir";
const SUITE = "setup's Bacula stanzas under the real daemons' -t";

/** Catalog the Director's -t opens: bacula-dir 9.6 checks only the schema version (16). */
function createCatalog(file: string): void {
  const db = new Database(file, { create: true });
  db.run("CREATE TABLE Version (VersionId INTEGER UNSIGNED NOT NULL)");
  db.run("INSERT INTO Version (VersionId) VALUES (16)");
  db.close();
}

function sdMain(dir: string, include: string): string {
  return `Storage {
  Name = "t-sd"
  SDPort = 9103
  WorkingDirectory = "${dir}"
  Pid Directory = "${dir}"
}
Director {
  Name = "t-dir"
  Password = "sd-secret"
}
Messages {
  Name = Standard
  director = t-dir = all
}
@${include}
`;
}

function dirMain(dir: string, include: string, storage: string): string {
  return `Director {
  Name = "t-dir"
  DirAddress = 127.0.0.1
  Password = "console-secret"
  QueryFile = "${dir}/query.sql"
  WorkingDirectory = "${dir}"
  PidDirectory = "${dir}"
  Messages = Standard
}
Catalog {
  Name = MyCatalog
  dbname = "bacula"; dbuser = ""; dbpassword = ""
}
Messages {
  Name = Standard
  console = all
}
Pool {
  Name = Default
  Pool Type = Backup
}
Client {
  Name = t-fd
  Address = 127.0.0.1
  Password = "fd-secret"
  Catalog = MyCatalog
}
FileSet {
  Name = fs
  Include {
    File = "${dir}"
  }
}
Job {
  Name = backup
  Type = Backup
  Client = t-fd
  FileSet = fs
  Storage = "${storage}"
  Pool = Default
  Messages = Standard
}
@${include}
`;
}

// root: the daemons' -t runs as root here.
describe.skipIf(
  skipUnless(["root", "tool:bacula-sd", "tool:bacula-dir"], SUITE),
)(SUITE, () => {
  let root = "";
  let prefix = "";
  let sdConf = "";
  let dirConf = "";
  const name = "usbchanger1";

  beforeAll(() => {
    root = makeTempDir("setup-bacula");
    prefix = join(root, "prefix");
    mkdirSync(prefix);
    const config = parseConfigText(
      `name = "${name}"\ndrives = 3\nwork_dir = "${root}/work"\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "/mnt/${name}/magazine"\n[bacula]\npool = "${name}-pool"\n`,
      `/etc/magchanger/${name}.toml`,
    );
    applyPlan(
      planSetup({
        config,
        configPath: `/etc/magchanger/${name}.toml`,
        binary: "/usr/local/bin/magchanger",
        mediaType: name,
        jobs: {
          director: {
            file: "/etc/bacula/bacula-dir.conf",
            clients: ["t-fd"],
            pools: ["Default"],
            messages: ["Standard"],
          },
          client: "t-fd",
        },
      }),
      {
        prefix,
        root: true,
      },
    );
    const paths = installPaths(name, `/etc/magchanger/${name}.toml`);
    for (const d of ["sd", "dir"]) mkdirSync(join(root, d));
    sdConf = join(root, "sd/bacula-sd.conf");
    dirConf = join(root, "dir/bacula-dir.conf");
    writeFileSync(
      sdConf,
      sdMain(join(root, "sd"), join(prefix, paths.sdStanza)),
    );
    writeFileSync(
      dirConf,
      dirMain(join(root, "dir"), join(prefix, paths.dirStanza), name),
    );
    writeFileSync(join(root, "dir/query.sql"), "");
    createCatalog(join(root, "dir/bacula.db"));
  });
  afterAll(() => {
    if (root) removeTempDir(root);
  });

  const test_t = async (daemon: string, conf: string) => {
    const result = await exec([daemon, "-t", "-c", conf], {
      timeoutMs: 20_000,
    });
    return {
      exitCode: result.exitCode,
      output: `${result.stdout}${result.stderr}`.trim(),
    };
  };

  test("bacula-sd -t accepts the Autochanger and its three Devices", async () => {
    expect(await test_t(SD, sdConf)).toEqual({ exitCode: 0, output: "" });
  });

  test("bacula-dir -t accepts the Storage resource, placeholders included, the Pool and the example jobs", async () => {
    const paths = installPaths(name, `/etc/magchanger/${name}.toml`);
    const dir = readFileSync(join(prefix, paths.dirStanza), "utf8");
    expect(dir).toContain(`Pool {\n  Name = "${name}-pool"\n`);
    expect(dir).toContain(`Job {\n  Name = "${name}-example"\n`);
    expect(dir).toContain(`Job {\n  Name = "${name}-restore"\n`);
    expect(await test_t(DIR, dirConf)).toEqual({ exitCode: 0, output: "" });
  });

  test("the Director's Storage names the SD's Autochanger and its Media Type", () => {
    const paths = installPaths(name, `/etc/magchanger/${name}.toml`);
    const sd = readFileSync(join(prefix, paths.sdStanza), "utf8");
    const dir = readFileSync(join(prefix, paths.dirStanza), "utf8");
    expect(sd).toContain(`Autochanger {\n  Name = "${name}"`);
    expect(dir).toContain(`Device = "${name}"`);
    expect(dir).toContain(`Media Type = "${name}"`);
    expect(sd.match(new RegExp(`Media Type = "${name}"`, "g"))).toHaveLength(3);
  });

  test("control: -t does read the included stanza (a bad keyword in it fails)", async () => {
    const bad = join(root, "sd/bad.conf");
    writeFileSync(bad, `Device {\n  Name = x\n  Drive Indx = 0\n}\n`);
    const conf = join(root, "sd/bad-main.conf");
    writeFileSync(conf, sdMain(join(root, "sd"), bad));
    const result = await test_t(SD, conf);
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain("DriveIndx");
  });
});
