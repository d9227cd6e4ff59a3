// The compiled binary's refresh, killed mid-way, then rerun (as the timer's --if-pending retry
// does): the update happens exactly once.
// bconsole is a fake that appends one line per completed run (the real Director is exercised in
// test/e2e/bacula).
import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { fakeDirector } from "../helpers/fake-director.ts";

const binary = resolve(import.meta.dir, "../../dist/magchanger");
const dir = mkdtempSync(join(tmpdir(), "magchanger-refresh-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = Bun.spawnSync([binary, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    code: r.exitCode,
    out: r.stdout.toString(),
    err: r.stderr.toString(),
  };
}

test("a refresh killed while bconsole runs is repeated by the next one, and only once", async () => {
  mkdirSync(join(dir, "bay"));
  const bconsole = join(dir, "bconsole");
  // Slow while the "slow" file exists; records each completed update.
  writeFileSync(
    bconsole,
    `#!/bin/bash\ncat >/dev/null\nwhile [ -e ${dir}/slow ]; do sleep 0.05; done\necho done >> ${dir}/updates\n`,
  );
  chmodSync(bconsole, 0o755);
  const conf = join(dir, "c.toml");
  writeFileSync(
    conf,
    `name = "c"\nwork_dir = "${dir}/work"\nlog_file = "${dir}/log"\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "${dir}/bay"\nallow_unmounted = true\n[bacula]\nbconsole = "${bconsole}"\ntimeout = 20\n`,
  );
  expect(
    run(["magazine", "init", "-c", conf, "1", "--volumes", "2"]).code,
  ).toBe(0);
  writeFileSync(join(dir, "slow"), "");
  // Its own process group, killed as a whole the way systemd or udev end a job.
  const child = Bun.spawn([binary, "refresh", "-c", conf], {
    stdout: "ignore",
    stderr: "ignore",
    detached: true,
  });
  const pending = () =>
    existsSync(join(dir, "work/refresh.json")) &&
    readFileSync(join(dir, "work/refresh.json"), "utf8").includes('"pending"');
  for (let i = 0; i < 200 && !pending(); i++) await Bun.sleep(20);
  expect(pending()).toBe(true);
  await Bun.sleep(50); // bconsole is running now
  process.kill(-child.pid, "SIGKILL");
  await child.exited;
  rmSync(join(dir, "slow"));
  await Bun.sleep(100);
  expect(existsSync(join(dir, "updates"))).toBe(false);
  // What the timer's retry service runs: the pending mark makes it a full refresh.
  const second = run(["refresh", "--if-pending", "-c", conf]);
  expect(second).toMatchObject({ code: 0, err: "" });
  // This bconsole knows no volume: both are reported unlabeled, as no pool is set.
  const warn = `WARN: 2 volumes are not labeled in Bacula; set [bacula] pool in ${conf} and run \`magchanger refresh -c ${conf}\` (or run \`label barcodes storage="c" pool=POOL drive=0\` then \`yes\` in bconsole)\n`;
  expect(second.out).toBe(
    `Bacula updated (a previous update did not finish): update slots storage="c" drive=0\n${warn}`,
  );
  const third = run(["refresh", "-c", conf]);
  expect(third.out).toBe(
    `nothing to do: Bacula already has the current view\n${warn}`,
  );
  expect(readFileSync(join(dir, "updates"), "utf8")).toBe("done\n");
  expect(run(["refresh", "--if-pending", "-c", conf])).toMatchObject({
    code: 0,
    out: "nothing to do: no Bacula update is pending\n",
    err: "",
  });
  expect(run(["refresh", "--if-pending", "--force", "-c", conf]).code).toBe(2);
});

const GROUPS_TEST =
  "as root with user bacula and group tape, refresh keeps group bacula and can read Debian's bconsole.conf";
test.skipIf(skipUnless(["root", "user:bacula", "group:tape"], GROUPS_TEST))(
  GROUPS_TEST,
  () => {
    const d = mkdtempSync(join(tmpdir(), "magchanger-groups-"));
    try {
      chmodSync(d, 0o755);
      mkdirSync(join(d, "bay"));
      const bconsoleConf = join(d, "bconsole.conf");
      writeFileSync(bconsoleConf, "Director { }\n");
      Bun.spawnSync(["chown", "root:bacula", bconsoleConf]);
      chmodSync(bconsoleConf, 0o640); // as Debian ships it
      const bconsole = join(d, "bconsole");
      // Reads its -c file the way bconsole does; fails when the group is missing.
      writeFileSync(
        bconsole,
        `#!/bin/bash\ncat >/dev/null\ncat "$3" >/dev/null || exit 1\necho "groups: $(id -Gn)"\n`,
      );
      chmodSync(bconsole, 0o755);
      const conf = join(d, "c.toml");
      writeFileSync(
        conf,
        `name = "g"\nwork_dir = "${d}/work"\nlog_file = "${d}/log"\nuser = "bacula"\ngroup = "tape"\n[[magazine]]\npath = "${d}/bay"\nallow_unmounted = true\n[bacula]\nbconsole = "${bconsole}"\nconfig = "${bconsoleConf}"\n`,
      );
      expect(
        run(["magazine", "init", "-c", conf, "1", "--volumes", "1"]).code,
      ).toBe(0);
      expect(run(["refresh", "-c", conf])).toMatchObject({ code: 0, err: "" });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  },
);

test("magazine init --label runs update slots and label barcodes for exactly the new volumes", () => {
  const d = mkdtempSync(join(tmpdir(), "magchanger-label-"));
  try {
    mkdirSync(join(d, "bay"));
    const director = fakeDirector(d, [join(d, "bay")]);
    const bconsole = director.path;
    const conf = join(d, "c.toml");
    const base = `name = "lb"\nwork_dir = "${d}/work"\nlog_file = "${d}/log"\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "${d}/bay"\nallow_unmounted = true\n[bacula]\nbconsole = "${bconsole}"\n`;
    writeFileSync(conf, base);
    const refused = run([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "3",
      "--label",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      '--label needs the pool to label into: set pool = "..." under [bacula]',
    );
    expect(existsSync(join(d, "work/slots"))).toBe(false);
    writeFileSync(conf, `${base}pool = "Offsite"\n`);
    const labeled = run([
      "magazine",
      "init",
      "-c",
      conf,
      "1",
      "--volumes",
      "3",
      "--label",
    ]);
    expect(labeled).toMatchObject({ code: 0, err: "" });
    expect(director.input()).toBe(
      'update slots storage="lb" drive=0\nlist volumes pool="Offsite"\nlist volumes\nstatus storage="lb"\nquit\n' +
        'label barcodes storage="lb" pool="Offsite" drive=0 slots=1-3\nyes\nlist volumes\nquit\n',
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

// Seen in the VM suite: the refresh a plug restarts and one run by hand at the same moment both
// labeled the same new volume and both told the same damaged volumes.
test("two refreshes at once: the second waits for the first, then has nothing to do", async () => {
  const d = join(dir, "two");
  mkdirSync(join(d, "bay"), { recursive: true });
  const bconsole = join(d, "bconsole");
  writeFileSync(
    bconsole,
    `#!/bin/bash\nif grep -q '^update slots' ; then sleep 1; echo run >> ${d}/updates; fi\n`,
  );
  chmodSync(bconsole, 0o755);
  const conf = join(d, "c.toml");
  writeFileSync(
    conf,
    `name = "c"\nwork_dir = "${d}/work"\nlog_file = "${d}/log"\nuser = "root"\ngroup = "root"\n[[magazine]]\npath = "${d}/bay"\nallow_unmounted = true\n[bacula]\nbconsole = "${bconsole}"\ntimeout = 20\n`,
  );
  expect(
    run(["magazine", "init", "-c", conf, "1", "--volumes", "2"]).code,
  ).toBe(0);
  const start = () =>
    Bun.spawn([binary, "refresh", "-c", conf], {
      stdout: "pipe",
      stderr: "pipe",
    });
  const first = start();
  await Bun.sleep(300);
  const second = start();
  const outs = await Promise.all(
    [first, second].map((p) => new Response(p.stdout).text()),
  );
  expect(outs[0]).toStartWith(
    "Bacula updated (the volumes in the changer changed)",
  );
  expect(outs[1]).toStartWith(
    "nothing to do: Bacula already has the current view",
  );
  expect(readFileSync(join(d, "updates"), "utf8")).toBe("run\n");
});
