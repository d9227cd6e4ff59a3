// Cases for the root-path security tests: a root-owned case dir with a root-only victim
// (a directory holding a root file), directories the attacker (the changer's run-as user) owns,
// links it plants there, and the check that the victim was not created, chowned or written.
import { expect } from "bun:test";
import {
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "./attacker.ts";
import { makeTempDir, removeTempDir } from "./tmp.ts";

export interface RootCase {
  dir: string;
  victim: string;
  victimFile: string;
}

export function rootCases(prefix: string) {
  let base = "";
  let evil: Attacker | undefined;
  let n = 0;
  const attacker = () => evil as Attacker;
  return {
    /** From beforeAll: the temp root and the attacker user. */
    start() {
      base = makeTempDir(prefix);
      evil = createAttacker();
    },
    /** From afterAll: removes the user (userdel) and the files. */
    stop() {
      evil?.remove();
      if (base) removeTempDir(base);
    },
    attacker,
    /** The number of the current case (for unique names). */
    number: () => n,
    /** A fresh case dir (root's, 0755) with a root-only victim dir holding a root file. */
    newCase(): RootCase {
      n += 1;
      const dir = join(base, `case${n}`);
      const victim = join(dir, "victim");
      mkdirSync(dir, { mode: 0o755 });
      mkdirSync(victim, { mode: 0o700 });
      const victimFile = join(victim, "root-file");
      writeFileSync(victimFile, "root's own\n", { mode: 0o600 });
      return { dir, victim, victimFile };
    },
    /** A directory owned by the attacker (as /var/log/magchanger or /var/lib/bacula are bacula's). */
    attackerDir(path: string): string {
      mkdirSync(path, { recursive: true, mode: 0o755 });
      chownSync(path, attacker().uid, attacker().gid);
      return path;
    },
    plantLink(target: string, link: string): void {
      attacker().run(["ln", "-s", "--", target, link]);
    },
    /** The config lines that make the attacker the run-as user. */
    runAsLines(): string {
      return `user = "${attacker().name}"\ngroup = "${attacker().name}"\n`;
    },
  };
}

export function expectUntouched(c: RootCase): void {
  expect(readdirSync(c.victim)).toEqual(["root-file"]);
  expect(readFileSync(c.victimFile, "utf8")).toBe("root's own\n");
  for (const path of [c.victim, c.victimFile])
    expect(statSync(path)).toMatchObject({ uid: 0, gid: 0 });
}

export const lineCount = (stderr: string) => stderr.trim().split("\n").length;
