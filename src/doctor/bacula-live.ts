// doctor asks the Director itself, through bconsole within a timeout: does it answer
// (`status dir`), does it reach this changer's storage daemon (`status storage=S`: a wrong SD
// password or address fails here, not in the next job), and does the pool exist (`.pools`)?
// Then what the last refresh learned from the catalog: volumes Bacula does not know.
import { unlabeledAdvice, withDataAdvice } from "../bacula/advice.ts";
import { connect } from "node:net";
import { quoteName } from "../bacula/bconsole.ts";
import { directive, readBaculaConf } from "../bacula/conf.ts";
import {
  unlabeledAtLastRefresh,
  withDataAtLastRefresh,
} from "../bacula/refresh-state.ts";
import { type Check, fail, ok, warn } from "./check.ts";
import type { DoctorContext } from "./context.ts";

/** doctor waits at most this long for the Director (the config's timeout, when shorter). */
const MAX_WAIT_S = 30;

const SD_TROUBLE =
  /^.*(?:Failed to connect to Storage daemon|unable to authenticate with Storage daemon|Storage daemon.*(?:ERR=|rejected)|Authorization problem).*$/im;

export async function checkDirector(ctx: DoctorContext): Promise<Check[]> {
  const { bconsole, config: bconsoleConf, timeout, pool } = ctx.config.bacula;
  const storageName = ctx.config.bacula.storage ?? ctx.config.name;
  const storage = quoteName(storageName);
  const waitS = Math.min(timeout, MAX_WAIT_S);
  // bconsole retries a refused connection for 15 s: ask the port first.
  const refused = await directorRefuses(bconsoleConf);
  if (refused)
    return [
      warn(
        "director",
        `the Director at ${refused} does not accept connections (from ${bconsoleConf})`,
        `start bacula-dir (systemctl start bacula-dir), and check the Address and DIRport in ${bconsoleConf}`,
      ),
    ];
  let result: Awaited<ReturnType<DoctorContext["sys"]["exec"]>>;
  try {
    result = await ctx.sys.exec([bconsole, "-n", "-c", bconsoleConf], {
      stdin: `status dir\nstatus storage=${storage}\n.pools\nquit\n`,
      timeoutMs: waitS * 1000,
    });
  } catch (error) {
    return [
      warn(
        "director",
        (error as Error).message,
        "apt-get install bacula-console",
      ),
    ];
  }
  const out = `${result.stdout}${result.stderr}`;
  const last = out.trim().split("\n").slice(-2).join(" | ").slice(0, 200);
  if (result.timedOut)
    return [
      warn(
        "director",
        `bconsole got no answer from the Director within ${waitS} s`,
        `start bacula-dir (systemctl start bacula-dir), and check the Address and DIRport in ${bconsoleConf}`,
      ),
    ];
  if (result.exitCode !== 0 || !/^\S+ Version: /m.test(out))
    return [
      // A WARN: the changer works without the Director; refresh retries its updates.
      warn(
        "director",
        `the Director does not answer \`status dir\`: ${last || `bconsole exited with ${result.exitCode}`}`,
        `start bacula-dir; the Password in ${bconsoleConf} must be the Director's Password in bacula-dir.conf`,
      ),
    ];
  const checks = [ok("director", "the Director answers `status dir`")];
  checks.push(checkStorage(ctx, out, storage, last));
  if (pool) checks.push(checkPool(ctx, out, pool));
  return checks;
}

/** What `status storage=S` said: the Director reaches the SD, or why not. */
function checkStorage(
  ctx: DoctorContext,
  out: string,
  storage: string,
  last: string,
): Check {
  if (new RegExp(`Storage resource ${escape(storage)}: not found`).test(out))
    return fail(
      "storage",
      `the Director has no Storage ${storage}`,
      `define it in bacula-dir.conf (\`magchanger setup -c ${ctx.configPath}\` prints it), then \`reload\` in bconsole; or set [bacula] storage in ${ctx.configFile}`,
    );
  const trouble = SD_TROUBLE.exec(out);
  return trouble || !/Device status:/.test(out)
    ? fail(
        "storage",
        `the Director cannot reach the storage daemon of Storage ${storage}: ${(trouble?.[0] ?? last).trim()}`,
        "start bacula-sd; the Storage's Address and SDPort in bacula-dir.conf must reach it, and its Password must be the SD's Director Password (then systemctl restart bacula-sd, `reload` in bconsole)",
      )
    : ok(
        "storage",
        `the Director reaches the storage daemon (status storage=${storage})`,
      );
}

function checkPool(ctx: DoctorContext, out: string, pool: string): Check {
  const lines = out.split("\n");
  const start = lines.findIndex((l) => l.trim() === ".pools");
  const end = lines.findIndex((l, i) => i > start && l.trim() === "quit");
  const pools = lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.trim());
  return pools.includes(pool)
    ? ok("pool", `the Director has Pool ${quoteName(pool)}`)
    : fail(
        "pool",
        `the Director has no Pool ${quoteName(pool)} ([bacula] pool); it has: ${pools.filter(Boolean).join(", ") || "none"}`,
        `define Pool ${quoteName(pool)} in bacula-dir.conf (then \`reload\` in bconsole), or set [bacula] pool in ${ctx.configFile} to one of those`,
      );
}

/** From refresh.json: no bconsole call, so it costs doctor nothing. */
export function checkUnlabeled(ctx: DoctorContext): Check[] {
  let unlabeled: string[] | undefined;
  let withData: string[] = [];
  try {
    unlabeled = unlabeledAtLastRefresh(ctx);
    withData = withDataAtLastRefresh(ctx);
  } catch {
    return [];
  }
  if (unlabeled === undefined)
    return [
      warn(
        "labels",
        "no refresh has run yet: Bacula may not know the volumes in the changer",
        `magchanger refresh -c ${ctx.configFile}`,
      ),
    ];
  const checks: Check[] = [];
  if (unlabeled.length) {
    const [message, fix] = unlabeledAdvice(ctx.config, unlabeled.length).split(
      "; ",
    );
    checks.push(warn("labels", `${message} (at the last refresh)`, fix ?? ""));
  }
  if (withData.length) {
    const advice = withDataAdvice(ctx.config, withData);
    const cut = advice.indexOf("; ");
    checks.push(
      warn(
        "labels",
        `${advice.slice(0, cut)} (at the last refresh)`,
        advice.slice(cut + 2),
      ),
    );
  }
  return checks.length
    ? checks
    : [
        ok(
          "labels",
          "every volume in the changer at the last refresh is labeled in Bacula",
        ),
      ];
}

/** "host:port" when bconsole.conf's Director refuses a TCP connection, else undefined. */
async function directorRefuses(conf: string): Promise<string | undefined> {
  let host = "localhost";
  let port = 9101;
  try {
    const director = readBaculaConf(conf).find((r) => r.type === "director");
    if (!director) return undefined; // bconsole says what is wrong with its config
    host = directive(director, "Address") ?? host;
    port = Number(directive(director, "DIRport") ?? port);
  } catch {
    return undefined;
  }
  const answered = await new Promise<boolean>((done) => {
    const socket = connect({ host, port, timeout: 3000 });
    const end = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once("connect", () => end(true));
    socket.once("timeout", () => end(true)); // slow, not refused: bconsole decides
    socket.once("error", () => end(false));
  });
  return answered ? undefined : `${host}:${port}`;
}

function escape(text: string): string {
  return text.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
