// An unprivileged user of its own for a security test: it plants links, FIFOs, configs and
// file names the way a compromised run-as account would, and is removed again (userdel) by
// remove(), which the test calls from afterAll. Needs root, useradd/userdel and setpriv.
import { tool } from "./run.ts";

export interface Attacker {
  name: string;
  uid: number;
  gid: number;
  /** Runs argv as this user (setpriv, no shell); throws when it exits outside okCodes. */
  run(argv: string[], options?: { okCodes?: number[] }): string;
  remove(): void;
}

let counter = 0;

export function createAttacker(prefix = "magevil"): Attacker {
  counter += 1;
  const name = `${prefix}${process.pid % 100000}${counter}`.slice(0, 30);
  tool([
    "useradd",
    "--system",
    "--user-group",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    name,
  ]);
  const fields = tool(["getent", "passwd", name]).trim().split(":");
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  let removed = false;
  return {
    name,
    uid,
    gid,
    run(argv, options = {}) {
      return tool(
        [
          "setpriv",
          `--reuid=${uid}`,
          `--regid=${gid}`,
          "--init-groups",
          "--",
          ...argv,
        ],
        options,
      );
    },
    remove() {
      if (removed) return;
      removed = true;
      tool(["userdel", "--", name], { okCodes: [0, 6] });
      tool(["groupdel", "--", name], { okCodes: [0, 6] });
    },
  };
}
