// `magchanger eject` runs as root in paths the run-as user partly owns. Two of them must not lead
// root elsewhere:
// - the bay: `sync -f` and `umount` take its path, and resolve it again when they run; below a
//   directory the run-as user owns (/var/lib/bacula/bays/usb1 on Debian), that user can swap a
//   component for a link between eject reading mountinfo and umount, and root would unmount
//   whatever the link leads to. Eject refuses such a bay (exit 1, one line), unmounting nothing.
// - the changer log: opened only the way unlock opens it (through directories and links root
//   owns or the run-as user's own, O_NOFOLLOW, owner checked), never by following a link the
//   run-as user planted in the log dir to an existing root file.
// Real: a tmpfs mounted at the bay (any filesystem is a mount to eject; no LUKS mapping: this
// kernel has no device-mapper, and nothing here gets that far), the attacker a throwaway
// unprivileged user that is the changer's run-as user and plants the links.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { expectUntouched, lineCount, rootCases } from "../helpers/root-case.ts";
import { runBinary, tool } from "../helpers/run.ts";

const SUITE = "eject as root: untrusted bay paths and a planted log link";

function isMountPoint(dir: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === dir);
}

describe.skipIf(
  skipUnless(
    ["root", "tool:useradd", "tool:setpriv", "tool:mount", "tool:umount"],
    SUITE,
  ),
)(SUITE, () => {
  const cases = rootCases("eject-paths");
  const mounted: string[] = [];

  function mountTmpfs(at: string): void {
    tool(["mount", "-t", "tmpfs", "-o", "size=1m", "--", "magtest", at]);
    mounted.push(at);
  }

  function writeConf(dir: string, bay: string, logFile: string): string {
    const work = cases.attackerDir(join(dir, "work"));
    const conf = join(dir, "ej.toml");
    writeFileSync(
      conf,
      `name = "ej"\nwork_dir = "${work}"\nlog_file = "${logFile}"\nlog_level = "debug"\n${cases.runAsLines()}drives = 1\n\n[[magazine]]\npath = "${bay}"\n`,
      { mode: 0o644 },
    );
    return conf;
  }

  beforeAll(() => cases.start());
  afterAll(() => {
    for (const at of mounted.reverse())
      if (isMountPoint(at)) tool(["umount", "-l", "--", at]);
    cases.stop();
  });

  test("a bay below a directory the run-as user owns is refused: one line naming it, nothing unmounted", async () => {
    const c = cases.newCase();
    const bays = cases.attackerDir(join(c.dir, "bays"));
    const bay = join(bays, "usb1");
    cases.attacker().run(["mkdir", "--", bay]);
    mountTmpfs(bay);
    const conf = writeConf(c.dir, bay, join(c.dir, "ej.log"));
    const result = await runBinary(["eject", "-c", conf], {
      timeoutMs: 60_000,
    });
    expect(isMountPoint(bay)).toBe(true);
    expect(result.exitCode).toBe(1);
    expect(lineCount(result.stderr)).toBe(1);
    expect(result.stderr).toStartWith("magchanger: not ejecting bay 1 ");
    expect(result.stderr).toContain(
      `${bays} is owned by uid ${cases.attacker().uid}, not root`,
    );
    expect(result.stderr).toContain(`chown root:root ${bays}`);
    expect(result.stdout).toBe("");
  });

  test("a log path through a link the run-as user planted is not followed to a root file", async () => {
    const c = cases.newCase();
    const bay = join(c.dir, "bay");
    tool(["mkdir", "--", bay]);
    mountTmpfs(bay);
    const logDir = cases.attackerDir(join(c.dir, "log"));
    cases.plantLink(c.victim, join(logDir, "sub"));
    // The log file "exists" through the link: the root file the attacker wants appended to.
    const conf = writeConf(c.dir, bay, join(logDir, "sub", "root-file"));
    const result = await runBinary(["eject", "-c", conf], {
      timeoutMs: 60_000,
    });
    expect(isMountPoint(bay)).toBe(false);
    expectUntouched(c);
    expect(result.stderr).toContain(
      `magchanger: warning: not writing the log ${join(logDir, "sub", "root-file")} as root`,
    );
  });
});
