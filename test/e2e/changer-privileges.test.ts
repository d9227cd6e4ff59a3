// DESIGN property 6: started as root (udev, autofs, a sysadmin's shell) with a run-as user and
// group, the changer becomes them -- supplementary groups included -- before it touches any
// state; an unknown user or group is an error, never "stay root" (vchanger's defect).
import { skipUnless } from "../helpers/capabilities.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
} from "node:fs";
import { join } from "node:path";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import { expectFailure, expectSuccess } from "../helpers/expect.ts";
import { runBinary, tool } from "../helpers/run.ts";
import { snapshotDir } from "../helpers/state.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { ensureTestUser, type TestUser } from "../helpers/users.ts";

const SUITE = "run-as user and group when started as root";

// root: the changer only switches user when started as root.
describe.skipIf(skipUnless(["root", "tool:useradd"], SUITE))(SUITE, () => {
  let dir = "";
  let user: TestUser;
  let bay = "";
  /** The changer as root sets it up: user root, so no switch. */
  let asRoot: TestChanger;
  let vols: string[] = [];

  beforeAll(async () => {
    user = ensureTestUser();
    dir = makeTempDir("privileges");
    bay = join(dir, "bay");
    mkdirSync(bay);
    asRoot = new TestChanger(dir, {
      name: "pv1",
      drives: 2,
      bays: [{ path: bay, allowUnmounted: true }],
    });
    vols = await asRoot.init(1, 3);
    expectSuccess(await asRoot.sd("load", 1, 0));
  });

  afterAll(() => {
    if (dir) removeTempDir(dir);
  });

  /** Another config for the same changer and work dir, with its own run-as identity and log. */
  const variant = (name: string, user: string, group: string) =>
    new TestChanger(dir, {
      confFile: `${name}.toml`,
      name: "pv1",
      drives: 2,
      user,
      group,
      workDir: asRoot.workDir,
      logFile: join(dir, `${name}.log`),
      bays: [{ path: bay, allowUnmounted: true }],
    });

  test("an unknown run-as user: exit 7, one line, nothing written", async () => {
    const before = snapshotDir(asRoot.workDir);
    const nobody = variant("nouser", "magchanger-no-such-user", "root");
    const line =
      'run-as user "magchanger-no-such-user" does not exist; create it (e.g. install bacula-sd) or set user = "..." in the config';
    for (const [command, slot] of [
      ["loaded", 0],
      ["list", 0],
      ["load", 2],
      ["unload", 1],
    ] as const) {
      expectFailure(await nobody.sd(command, slot, 0), 7, line);
    }
    expect(snapshotDir(asRoot.workDir)).toEqual(before);
    expect(existsSync(join(dir, "nouser.log"))).toBe(false);
  });

  test("an unknown run-as group: exit 7, one line, nothing written", async () => {
    const before = snapshotDir(asRoot.workDir);
    const changer = variant("nogroup", user.name, "magchanger-no-such-group");
    expectFailure(
      await changer.sd("load", 2, 1),
      7,
      'run-as group "magchanger-no-such-group" does not exist; create it or set group = "..." in the config',
    );
    expect(snapshotDir(asRoot.workDir)).toEqual(before);
    expect(existsSync(join(dir, "nogroup.log"))).toBe(false);
  });

  test("an unknown user given with -u in the vchanger form: exit 7, nothing written", async () => {
    const before = snapshotDir(asRoot.workDir);
    const result = await runBinary([
      "-u",
      "magchanger-no-such-user",
      "-g",
      "root",
      asRoot.conf,
      "load",
      "2",
      asRoot.driveLink(1),
      "1",
    ]);
    expectFailure(
      result,
      7,
      'run-as user "magchanger-no-such-user" does not exist; create it (e.g. install bacula-sd) or set user = "..." in the config',
    );
    expect(snapshotDir(asRoot.workDir)).toEqual(before);
  });

  test("with a real unprivileged user, every state file it creates and its log are owned by that user", async () => {
    const home = join(dir, "state");
    mkdirSync(home);
    chownSync(home, user.uid, user.gid);
    const ownBay = join(dir, "bay2");
    mkdirSync(ownBay);
    const changer = new TestChanger(dir, {
      name: "pv2",
      drives: 2,
      user: user.name,
      group: user.group,
      workDir: join(home, "work"),
      logFile: join(home, "log", "pv2.log"),
      bays: [{ path: ownBay, allowUnmounted: true }],
    });
    const own = await changer.init(1, 2);
    expectSuccess(await changer.sd("list", 0, 0), listOutput(2, slotsOf(own)));
    expectSuccess(await changer.sd("load", 2, 1));
    expectSuccess(await changer.sd("loaded", 0, 1), "2\n");
    const owned = [
      "work",
      "work/slots",
      "work/drives.json",
      "work/lock",
      "work/drive0",
      "work/drive1",
      "log",
      "log/pv2.log",
    ];
    for (const name of owned) {
      const st = lstatSync(join(home, name));
      expect({ name, uid: st.uid, gid: st.gid }).toEqual({
        name,
        uid: user.uid,
        gid: user.gid,
      });
    }
    for (const name of own) {
      const st = lstatSync(join(ownBay, name));
      expect({ name, uid: st.uid, gid: st.gid }).toEqual({
        name,
        uid: user.uid,
        gid: user.gid,
      });
    }
  });

  test("the vchanger form's -u/-g switch to that user for load and unload", async () => {
    const home = join(dir, "state3");
    mkdirSync(home);
    chownSync(home, user.uid, user.gid);
    const changer = new TestChanger(dir, {
      confFile: "pv3.toml",
      name: "pv1",
      drives: 2,
      workDir: join(home, "work"),
      logFile: join(home, "pv3.log"),
      bays: [{ path: bay, allowUnmounted: true }],
    });
    const vchanger = (args: string[]) =>
      runBinary(["-u", user.name, "-g", user.group, changer.conf, ...args]);
    expectSuccess(await vchanger(["list"]), listOutput(3, slotsOf(vols)));
    expectSuccess(await vchanger(["load", "2", changer.driveLink(1), "1"]));
    expectSuccess(
      await vchanger(["loaded", "0", changer.driveLink(1), "1"]),
      "2\n",
    );
    for (const name of [
      "work",
      "work/slots",
      "work/drives.json",
      "work/drive1",
      "pv3.log",
    ]) {
      const st = lstatSync(join(home, name));
      expect({ name, uid: st.uid }).toEqual({ name, uid: user.uid });
    }
  });

  test("supplementary groups are dropped too: a bay only root's group may read is absent", async () => {
    const home = join(dir, "state4");
    mkdirSync(home);
    chownSync(home, user.uid, user.gid);
    const own = new TestChanger(dir, {
      confFile: "pv4.toml",
      name: "pv1",
      drives: 2,
      user: user.name,
      group: user.group,
      workDir: join(home, "work"),
      logFile: join(home, "pv4.log"),
      bays: [{ path: bay, allowUnmounted: true }],
    });
    expectSuccess(await own.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
    const st = lstatSync(bay);
    chownSync(bay, 0, 0);
    chmodSync(bay, 0o750);
    try {
      // Root's group 0 would still read it; the run-as user's groups cannot.
      expectSuccess(await own.sd("list", 0, 0), listOutput(3, {}));
    } finally {
      chownSync(bay, st.uid, st.gid);
      chmodSync(bay, st.mode & 0o7777);
    }
    expectSuccess(await own.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
  });

  test("a supplementary group of the run-as user is kept: a bay only that group may read is present", async () => {
    // /etc/group membership, as the Debian bacula user's tape group: read from /etc/group
    // directly where nsswitch.conf says only files answer (system/groups.ts), else initgroups.
    const group = "magtest-supp";
    tool(["groupadd", "--system", group], { okCodes: [0, 9] });
    try {
      tool(["gpasswd", "--add", user.name, group]);
      const home = join(dir, "state5");
      mkdirSync(home);
      chownSync(home, user.uid, user.gid);
      const own = new TestChanger(dir, {
        confFile: "pv5.toml",
        name: "pv1",
        drives: 2,
        user: user.name,
        group: user.group,
        workDir: join(home, "work"),
        logFile: join(home, "pv5.log"),
        bays: [{ path: bay, allowUnmounted: true }],
      });
      const gid = Number(
        Bun.spawnSync(["getent", "group", group])
          .stdout.toString()
          .split(":")[2],
      );
      const st = lstatSync(bay);
      chownSync(bay, 0, gid);
      chmodSync(bay, 0o750);
      try {
        expectSuccess(await own.sd("list", 0, 0), listOutput(3, slotsOf(vols)));
      } finally {
        chownSync(bay, st.uid, st.gid);
        chmodSync(bay, st.mode & 0o7777);
      }
    } finally {
      tool(["groupdel", group], { okCodes: [0, 6] });
    }
  });
});
