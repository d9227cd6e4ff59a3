// Preconditions, catalog creation and ports for the Bacula harness.
import { existsSync, readFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { missing } from "../../helpers/capabilities.ts";
import { describeFailure, runTool } from "./processes.ts";

const SCHEMA =
  "/usr/share/dbconfig-common/data/bacula-director-sqlite3/install/sqlite3";
const MAKE_TABLES = "/usr/share/bacula-director/make_sqlite3_tables";

function findExecutable(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(":"),
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
  ];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Why the Bacula tests cannot run here, or undefined when they can. */
export function baculaMissing(): string | undefined {
  return missing("bacula");
}

export function baculaTools() {
  const reason = baculaMissing();
  if (reason) throw new Error(reason);
  const need = (n: string) => findExecutable(n) ?? "";
  return {
    dir: need("bacula-dir"),
    sd: need("bacula-sd"),
    fd: need("bacula-fd"),
    bconsole: need("bconsole"),
    sqlite3: need("sqlite3"),
  };
}

/** Creates an empty Bacula catalog (schema version 16) at dbFile. */
export async function createCatalog(
  sqlite3: string,
  dbFile: string,
): Promise<void> {
  const r = existsSync(SCHEMA)
    ? await runTool([sqlite3, "-bail", dbFile, `.read ${SCHEMA}`], {
        timeoutMs: 30_000,
      })
    : await runTool([sqlite3, "-bail", dbFile], {
        stdin: schemaFromScript(),
        timeoutMs: 30_000,
      });
  if (r.exitCode !== 0)
    throw new Error(
      `creating the sqlite3 catalog failed:\n${describeFailure(r)}`,
    );
}

/** The SQL here-document of Debian's make_sqlite3_tables (it contains no shell expansions). */
function schemaFromScript(): string {
  const text = readFileSync(MAKE_TABLES, "utf8");
  const m = /<<END-OF-DATA\n([\s\S]*?)\nEND-OF-DATA/.exec(text);
  if (!m?.[1]) throw new Error(`no schema found in ${MAKE_TABLES}`);
  return m[1];
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () =>
      srv.close(() => resolve(true)),
    );
  });
}

/**
 * Three distinct free loopback ports, chosen at random in 20000-31999: below Linux's ephemeral
 * range (32768+) so outgoing connections do not take them between the check and the bind, and
 * random so concurrent harnesses (two CI jobs, two test files) almost never pick the same.
 */
export async function pickPorts(): Promise<{
  dir: number;
  sd: number;
  fd: number;
}> {
  const picked: number[] = [];
  for (let tries = 0; picked.length < 3; tries++) {
    if (tries > 200)
      throw new Error("no free port found in 20000-31999 on 127.0.0.1");
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (!picked.includes(port) && (await portFree(port))) picked.push(port);
  }
  const [dir = 0, sd = 0, fd = 0] = picked;
  return { dir, sd, fd };
}

export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: "127.0.0.1" });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

export function resolveUser(
  user: string,
  group?: string,
): { user: string; group: string; uid: number; gid: number } {
  const passwd = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((l) => l.split(":"));
  const groups = readFileSync("/etc/group", "utf8")
    .split("\n")
    .map((l) => l.split(":"));
  const pw = passwd.find((f) => f[0] === user);
  if (!pw) throw new Error(`sdUser ${user} does not exist`);
  const gr =
    group === undefined
      ? groups.find((f) => f[2] === pw[3])
      : groups.find((f) => f[0] === group);
  if (!gr?.[0])
    throw new Error(`group ${group ?? `gid ${pw[3]}`} does not exist`);
  return { user, group: gr[0], uid: Number(pw[2]), gid: Number(gr[2]) };
}
