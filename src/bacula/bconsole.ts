// Talking to the Director through bconsole: commands on stdin (never argv), a timeout, output
// drained while it runs (vchanger hung on more than 64 KiB), and a result that is checked.
import type { Config } from "../config/schema.ts";
import { ToolError } from "../errors.ts";
import type { Exec } from "../system/exec.ts";
import { lastLines } from "../text.ts";

export interface BconsoleResult {
  output: string;
  ms: number;
}

/** Lines in bconsole's output that mean a command did not do its job. */
const FAILURE =
  /^(?:.*\bERR=|Error:|Failed to connect|Director authorization problem|.* not found\.?$|.*Invalid (?:storage|pool|command)|Could not (?:open|connect)).*/im;
/** Upper case only: `update volume=V volstatus=Error` answers `New Volume status is: Error`. */
const UPPER_FAILURE = /^.*: ERROR\b.*/m;

/**
 * A resource name in a console command. Bacula's console splits arguments on spaces unless they
 * are in double quotes; a pool named "Offsite Pool" sent bare becomes `pool=Offsite` and `Pool`.
 */
export function quoteName(name: string): string {
  return `"${name.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

export async function runBconsole(
  config: Config,
  commands: string[],
  exec: Exec,
): Promise<BconsoleResult> {
  const { bconsole, config: bconsoleConfig, timeout } = config.bacula;
  const script = `${commands.join("\n")}\nquit\n`;
  const result = await exec([bconsole, "-n", "-c", bconsoleConfig], {
    stdin: script,
    timeoutMs: timeout * 1000,
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.timedOut) {
    throw new ToolError(
      `bconsole did not finish within ${timeout} s ([bacula] timeout) and was killed; is the Director running?`,
    );
  }
  if (result.exitCode !== 0) {
    throw new ToolError(
      `bconsole exited with ${result.exitCode}: ${lastLines(output, 2) || "no output"}; check ${bconsoleConfig} and that the Director is running`,
    );
  }
  const failure = FAILURE.exec(output) ?? UPPER_FAILURE.exec(output);
  if (failure) {
    const line = failure[0].trim().slice(0, 300);
    throw new ToolError(
      `bconsole reported a failure: ${line}; ${adviceFor(line, config)}`,
    );
  }
  return { output, ms: result.ms };
}

/** What to do about a failure line bconsole printed (Bacula 9.6 wording). */
export function adviceFor(line: string, config: Config): string {
  const conf = config.source;
  const pool = /Could not find Pool "([^"]*)"/.exec(line);
  if (pool)
    return `define Pool "${pool[1]}" in bacula-dir.conf (then \`reload\` in bconsole), or set [bacula] pool in ${conf} to a Pool that exists`;
  const storage = /Storage resource "([^"]*)": not found/.exec(line);
  if (storage)
    return `define Storage "${storage[1]}" (Autochanger = yes) in bacula-dir.conf (then \`reload\` in bconsole), or set [bacula] storage in ${conf} to the Director's Storage for this changer`;
  if (/Director authorization problem/.test(line))
    return `the Password in ${config.bacula.config} must equal the Director's Password in bacula-dir.conf`;
  if (/Failed to connect to Storage daemon|Storage daemon.*ERR=/.test(line))
    return "the Director cannot reach the storage daemon: check that bacula-sd runs, that the Storage's Address/SDPort in bacula-dir.conf reach it, and that its Password equals the SD's Director Password";
  if (/Failed to connect to Director|Could not connect/.test(line))
    return `check that bacula-dir runs and that ${config.bacula.config} names its address and port`;
  return `run the same command in bconsole to see the whole output (magchanger doctor -c ${conf} checks the Director)`;
}

/** Bacula's slot list syntax: 1-3,7,9-10. */
export function slotRanges(slots: number[]): string {
  const sorted = [...new Set(slots)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (
      j + 1 < sorted.length &&
      (sorted[j + 1] as number) === (sorted[j] as number) + 1
    )
      j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
