// doctor as a function over a staged install (setup --write below a temp prefix) and bays that
// are plain directories: each problem is one FAIL or WARN naming the fix. The loop-device trap
// (reserved blocks) is in test/e2e/doctor.test.ts.
import { skipUnless } from "../helpers/capabilities.ts";
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import type { Check } from "../../src/doctor/check.ts";
import { formatChecks } from "../../src/doctor/report.ts";
import { runDoctor } from "../../src/doctor/run.ts";
import { applyPlan } from "../../src/setup/apply.ts";
import { planSetup } from "../../src/setup/plan.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { fakeHost } from "./host-fakes.ts";

const BIN = process.execPath;
const UUID = "0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

interface World {
  dir: string;
  prefix: string;
  conf: string;
  bay: string;
}

function configText(w: { dir: string; bay: string }, extra = ""): string {
  return `name = "c1"
work_dir = "${w.dir}/work"
log_file = "${w.dir}/log/c1.log"
user = "root"
group = "root"
${extra}
[luks]
key_file = "${w.dir}/key"
[bacula]
bconsole = "${BIN}"
config = "${w.dir}/bconsole.conf"
[[magazine]]
path = "${w.bay}"
allow_unmounted = true
`;
}

/** A healthy changer: setup --write below the prefix, a magazine with one volume in the bay. */
function world(): World {
  const dir = makeTempDir("doctor");
  dirs.push(dir);
  const prefix = join(dir, "root");
  const bay = join(dir, "mnt/magazine");
  const conf = join(prefix, "etc/magchanger/c1.toml");
  mkdirSync(join(prefix, "etc/magchanger"), { recursive: true });
  mkdirSync(join(bay, `.magchanger-${UUID}`), { recursive: true });
  writeFileSync(
    join(bay, `.magchanger-${UUID}/magazine.json`),
    JSON.stringify({
      uuid: UUID,
      changer: "c1",
      number: 1,
      lastVolume: 1,
      created: "2026-01-01T00:00:00Z",
    }),
  );
  writeFileSync(join(bay, "c1_0001_0001"), "");
  writeFileSync(conf, configText({ dir, bay }));
  writeFileSync(join(dir, "key"), "k".repeat(64));
  chmodSync(join(dir, "key"), 0o400);
  writeFileSync(join(dir, "bconsole.conf"), "");
  mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
  writeFileSync(
    join(prefix, "etc/auto.master"),
    "+dir:/etc/auto.master.d\n+auto.master\n",
  );
  const config = parseConfigText(configText({ dir, bay }), conf);
  applyPlan(
    planSetup({
      config,
      configPath: "/etc/magchanger/c1.toml",
      binary: BIN,
      mediaType: "c1",
    }),
    { prefix, root: true },
  );
  // What `systemctl enable --now magchanger-refresh@c1.timer` leaves behind.
  mkdirSync(join(prefix, "etc/systemd/system/timers.target.wants"));
  symlinkSync(
    "/etc/systemd/system/magchanger-refresh@.timer",
    join(
      prefix,
      "etc/systemd/system/timers.target.wants/magchanger-refresh@c1.timer",
    ),
  );
  // setup made them below the prefix; the live paths the config names are what doctor checks.
  mkdirSync(join(dir, "work"));
  mkdirSync(join(dir, "log"));
  return { dir, prefix, conf, bay };
}

const doctor = (w: World, conf = w.conf) =>
  runDoctor({
    configFile: conf,
    prefix: w.prefix,
    binary: BIN,
    configDir: "/etc/magchanger",
    host: fakeHost(),
  });
const failures = (checks: Check[]) => checks.filter((c) => c.status === "fail");
const named = (checks: Check[], name: string) =>
  checks.filter((c) => c.name === name);

describe.skipIf(skipUnless(["root"], "doctor"))("doctor", () => {
  let w: World;
  beforeEach(() => {
    w = world();
  });

  test("a healthy staged install has no FAIL; its WARNs are the Director's placeholders and that no Director answers", async () => {
    const checks = await doctor(w);
    expect(failures(checks)).toEqual([]);
    // bconsole here is no Director; no refresh ran yet.
    expect(
      checks.filter((c) => c.status === "warn").map((c) => c.name),
    ).toEqual(["bacula-dir", "director", "labels"]);
    expect(named(checks, "sd devices").map((c) => c.status)).toEqual(["ok"]);
    expect(named(checks, "bay 1")[0]?.message).toContain(
      "magazine 1 (0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a), 1 volume(s)",
    );
    expect(formatChecks(checks)).toMatch(/^OK {4}config: /);
  });

  test("what needs root is checked before it becomes the run-as user, what that user owns after; the order printed stays the chain's", async () => {
    const calls: string[] = [];
    const hook = (when: string) => () => calls.push(when);
    const checks = await runDoctor({
      configFile: w.conf,
      prefix: w.prefix,
      binary: BIN,
      configDir: "/etc/magchanger",
      host: fakeHost(),
      becomeRunAsUser: hook("drop"),
    });
    expect(calls).toEqual(["drop"]);
    const names = checks.map((c) => c.name);
    expect(names.indexOf("work dir")).toBeLessThan(names.indexOf("bay 1"));
    expect(names.indexOf("key file")).toBeLessThan(names.indexOf("sd devices"));
    expect(names.indexOf("sd devices")).toBeLessThan(names.indexOf("director"));
  });

  test("when it cannot become the run-as user, nothing that user owns is read: those checks say why", async () => {
    const checks = await runDoctor({
      configFile: w.conf,
      prefix: w.prefix,
      binary: BIN,
      configDir: "/etc/magchanger",
      host: fakeHost(),
      becomeRunAsUser: () => {
        throw new Error("setuid failed");
      },
    });
    const [work] = named(checks, "work dir");
    expect(work).toMatchObject({ status: "warn" });
    expect(work?.message).toBe(
      "not checked: doctor cannot become the run-as user root:root (setuid failed), and reads nothing that user owns as root",
    );
    expect(named(checks, "labels")).toEqual([]);
    expect(named(checks, "director")).toEqual([]);
    expect(named(checks, "key file")[0]?.status).toBe("ok");
  });

  test("an invalid config is one FAIL naming the key", async () => {
    writeFileSync(
      w.conf,
      'name = "c1"\ndrives = 0\n[[magazine]]\npath = "/x"\n',
    );
    const checks = await doctor(w);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ status: "fail", name: "config" });
    expect(checks[0]?.message).toContain("drives: drives must be at least 1");
  });

  test("a missing run-as user fails, with how to create it", async () => {
    writeFileSync(
      w.conf,
      configText({ dir: w.dir, bay: w.bay }).replace(
        'user = "root"',
        'user = "magchanger-no-such-user"',
      ),
    );
    const [check] = named(await doctor(w), "run-as user");
    expect(check).toMatchObject({
      status: "fail",
      message:
        'user "magchanger-no-such-user" does not exist: the changer refuses to run instead of staying root',
    });
    expect(check?.fix).toContain("apt-get install bacula-sd");
  });

  test("a key file others can read fails with the chmod", async () => {
    chmodSync(join(w.dir, "key"), 0o644);
    const [check] = named(await doctor(w), "key file");
    expect(check).toMatchObject({
      status: "fail",
      fix: `chown root:root ${w.dir}/key; chmod 0400 ${w.dir}/key`,
    });
  });

  test("a missing work dir fails with the setup command that creates it", async () => {
    rmSync(join(w.dir, "work"), { recursive: true });
    const [check] = named(await doctor(w), "work dir");
    expect(check).toMatchObject({
      status: "fail",
      message: `${w.dir}/work does not exist`,
    });
    expect(check?.fix).toStartWith(
      `magchanger setup -c /etc/magchanger/c1.toml --write --prefix ${w.prefix}`,
    );
  });

  test("a bay without a magazine fails when it is the only one", async () => {
    rmSync(w.bay, { recursive: true });
    mkdirSync(w.bay);
    const [check] = named(await doctor(w), "bay 1");
    expect(check?.status).toBe("fail");
    expect(check?.fix).toBe(
      `make the disk a magazine: magchanger magazine init -c ${w.conf} 1`,
    );
  });

  test("a udev rule that runs another binary fails", async () => {
    const rule = join(w.prefix, "etc/udev/rules.d/90-magchanger-c1.rules");
    writeFileSync(
      rule,
      'ACTION=="add", RUN+="/opt/old/magchanger unlock /dev/%k bacula"\n',
    );
    const [check] = named(await doctor(w), "udev rule");
    expect(check).toMatchObject({
      status: "fail",
      message: `${rule} runs /opt/old/magchanger, not this binary ${BIN}`,
    });
  });

  test("the seed's hand-written udev rule is pointed out", async () => {
    writeFileSync(
      join(w.prefix, "etc/udev/rules.d/99-unlock-luks.rules"),
      'ACTION=="add",BUS=="usb",KERNEL=="sd?1",RUN+="/usr/local/bin/unlock-luks /dev/%k bacula"\n',
    );
    const checks = named(await doctor(w), "udev rule");
    expect(checks.map((c) => c.status)).toEqual(["ok", "warn"]);
    expect(checks[1]?.message).toContain(
      "99-unlock-luks.rules looks like the hand-written rule",
    );
  });

  test("a missing autofs map link and a master map without auto.master.d fail", async () => {
    rmSync(join(w.prefix, "etc/auto.c1"));
    writeFileSync(
      join(w.prefix, "etc/auto.master"),
      "/mnt/usbchanger1 /etc/auto.usbchanger1 --timeout=10\n",
    );
    const checks = await doctor(w);
    expect(failures(checks).map((c) => c.message)).toEqual([
      `${w.prefix}/etc/auto.c1 is missing: autofs has no map to run`,
      `${w.prefix}/etc/auto.master does not read /etc/auto.master.d`,
    ]);
  });

  test("placeholders fail once the Director includes the stanza", async () => {
    writeFileSync(
      join(w.prefix, "etc/bacula/bacula-dir.conf"),
      "@/etc/bacula/magchanger-c1-dir.conf\n",
    );
    const [check] = named(await doctor(w), "bacula-dir");
    expect(check?.status).toBe("fail");
    expect(check?.message).toContain("still has CHANGE-ME placeholders");
  });

  test("a config others may change fails: unlock and automap run it as root", async () => {
    chmodSync(w.conf, 0o666);
    const [check] = named(await doctor(w), "config owner");
    // As root the config is refused before anything else is checked (config/read.ts).
    expect(check).toMatchObject({
      status: "fail",
      fix:
        process.getuid?.() === 0
          ? `chmod go-w ${w.conf}`
          : `chown root:root ${w.conf}; chmod 0644 ${w.conf}`,
    });
  });

  test("two bays: the autofs and udev checks name each bay's mapping; a bay's name another changer uses fails", async () => {
    // Bay 2 holds no disk: a WARN (a rotation leaves bays empty), not a FAIL.
    const bay2 = join(w.dir, "mnt/magazine2");
    const text = `${configText(w)}[[magazine]]\npath = "${bay2}"\nmapper = "bacula2"\n`;
    writeFileSync(w.conf, text);
    applyPlan(
      planSetup({
        config: parseConfigText(text, w.conf),
        configPath: "/etc/magchanger/c1.toml",
        binary: BIN,
        mediaType: "c1",
      }),
      { prefix: w.prefix, root: true },
    );
    const checks = await doctor(w);
    expect(failures(checks)).toEqual([]);
    expect(named(checks, "bay 2")[0]?.fix).toBe(
      `attach a magazine disk; if one is attached, \`ls ${bay2}\` should mount it through autofs: see the udev and autofs checks`,
    );
    expect(named(checks, "autofs map")[0]?.message).toBe(
      `${w.prefix}/etc/auto.master.d/magchanger-c1.autofs mounts ${w.bay} (/dev/mapper/bacula), ${bay2} (/dev/mapper/bacula2) through /etc/auto.c1 -> ${BIN}`,
    );
    expect(named(checks, "udev rule")[0]?.message).toBe(
      `${w.prefix}/etc/udev/rules.d/90-magchanger-c1.rules opens LUKS disks with ${BIN} as the first free of /dev/mapper/bacula (bay 1), /dev/mapper/bacula2 (bay 2)`,
    );
    writeFileSync(
      join(w.prefix, "etc/magchanger/c2.toml"),
      configText({ dir: w.dir, bay: w.bay })
        .replace('name = "c1"', 'name = "c2"')
        .replace("[luks]\n", '[luks]\nmapper = "bacula2"\n'),
    );
    const [check] = named(await doctor(w), "mapper name");
    expect(check?.status).toBe("fail");
    expect(check?.message).toBe(
      `${w.prefix}/etc/magchanger/c2.toml also use the mapping name "bacula2": udev's unlock cannot tell the changers apart`,
    );
  });

  test("two changers sharing one mapper name fail", async () => {
    writeFileSync(
      join(w.prefix, "etc/magchanger/c2.toml"),
      configText({ dir: w.dir, bay: w.bay }).replace(
        'name = "c1"',
        'name = "c2"',
      ),
    );
    const [check] = named(await doctor(w), "mapper name");
    expect(check?.status).toBe("fail");
    expect(check?.message).toContain('c2.toml also use luks.mapper = "bacula"');
  });
});
