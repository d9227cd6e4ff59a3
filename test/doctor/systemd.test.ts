// doctor's refresh unit, timer and retry unit checks over a staged install (setup --write below a prefix):
// missing or foreign units are WARNs with the fix, never FAILs (the changer works without them).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import type { Check } from "../../src/doctor/check.ts";
import { runDoctor } from "../../src/doctor/run.ts";
import { applyPlan } from "../../src/setup/apply.ts";
import { planSetup } from "../../src/setup/plan.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const BIN = process.execPath;
const root = process.getuid?.() === 0;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

/** setup --write below a prefix for the config STEM.toml; the timer enabled unless told. */
function staged(stem = "c1", extra = "", enable = true) {
  const dir = makeTempDir("doctor-systemd");
  dirs.push(dir);
  const prefix = join(dir, "root");
  const conf = join(prefix, `etc/magchanger/${stem}.toml`);
  mkdirSync(join(prefix, "etc/magchanger"), { recursive: true });
  const owner = root ? 'user = "root"\ngroup = "root"\n' : "";
  const text = `name = "c1"\n${owner}work_dir = "${dir}/work"\nlog_file = "${dir}/c1.log"\n${extra}\n[[magazine]]\npath = "${dir}/mnt/magazine"\n`;
  writeFileSync(conf, text);
  const configPath = `/etc/magchanger/${stem}.toml`;
  applyPlan(
    planSetup({
      config: parseConfigText(text, conf),
      configPath,
      binary: BIN,
      mediaType: "c1",
    }),
    { prefix, root },
  );
  const wants = join(prefix, "etc/systemd/system/timers.target.wants");
  if (enable) {
    mkdirSync(wants);
    symlinkSync(
      "/etc/systemd/system/magchanger-refresh@.timer",
      join(wants, `magchanger-refresh@${stem}.timer`),
    );
  }
  const doctor = async () =>
    (
      await runDoctor({
        configFile: conf,
        prefix,
        binary: BIN,
        configDir: "/etc/magchanger",
      })
    ).filter((c) => c.name.startsWith("refresh "));
  return { prefix, doctor };
}

const brief = (checks: Check[]) =>
  checks.map(
    (c) =>
      `${c.status} ${c.name}: ${c.message}${c.fix ? ` | fix: ${c.fix}` : ""}`,
  );

describe("doctor: refresh units", () => {
  test("installed by setup and the timer enabled: all OK, naming this binary and the units", async () => {
    const { prefix, doctor } = staged();
    expect(brief(await doctor())).toEqual([
      `ok refresh unit: ${prefix}/etc/systemd/system/magchanger-refresh@.service runs ${BIN} refresh; unlock queues magchanger-refresh@c1.service`,
      "ok refresh timer: magchanger-refresh@c1.timer is enabled (retries a pending update)",
      `ok refresh retry unit: ${prefix}/etc/systemd/system/magchanger-retry@.service runs ${BIN} refresh --if-pending; magchanger-refresh@c1.timer starts magchanger-retry@c1.service`,
    ]);
  });

  test("missing units are WARNs with the setup command", async () => {
    const { prefix, doctor } = staged();
    rmSync(join(prefix, "etc/systemd/system/magchanger-refresh@.service"));
    rmSync(join(prefix, "etc/systemd/system/magchanger-refresh@.timer"));
    rmSync(join(prefix, "etc/systemd/system/magchanger-retry@.service"));
    const setup = `magchanger setup -c /etc/magchanger/c1.toml --write --prefix ${prefix}`;
    expect(brief(await doctor())).toEqual([
      `warn refresh unit: ${prefix}/etc/systemd/system/magchanger-refresh@.service is missing: Bacula hears of a disk change only from \`magchanger refresh\` run by hand | fix: ${setup}`,
      `warn refresh timer: ${prefix}/etc/systemd/system/magchanger-refresh@.timer is missing: a Bacula update that failed is not retried | fix: ${setup}`,
      `warn refresh retry unit: ${prefix}/etc/systemd/system/magchanger-retry@.service is missing: magchanger-refresh@.timer has nothing to start: a Bacula update that failed is not retried | fix: ${setup}`,
    ]);
  });

  test("a unit running another binary is a WARN naming both", async () => {
    const { prefix, doctor } = staged();
    const unit = join(prefix, "etc/systemd/system/magchanger-refresh@.service");
    writeFileSync(
      unit,
      "[Service]\nType=oneshot\nExecStart=/opt/old/magchanger refresh -c /etc/magchanger/%i.toml\n",
    );
    const [check] = await doctor();
    expect(check).toMatchObject({
      status: "warn",
      message: `${unit} runs /opt/old/magchanger, not this binary ${BIN}`,
    });
  });

  test("a retry unit running a full refresh (no --if-pending) is a WARN", async () => {
    const { prefix, doctor } = staged();
    const unit = join(prefix, "etc/systemd/system/magchanger-retry@.service");
    writeFileSync(
      unit,
      `[Service]\nType=oneshot\nExecStart=${BIN} refresh -c /etc/magchanger/%i.toml\n`,
    );
    expect((await doctor())[2]).toMatchObject({
      status: "warn",
      name: "refresh retry unit",
      message: `${unit} runs no \`magchanger refresh --if-pending\``,
    });
  });

  test("a timer that is not enabled is a WARN with the systemctl command", async () => {
    const { doctor } = staged("c1", "", false);
    expect((await doctor())[1]).toEqual({
      status: "warn",
      name: "refresh timer",
      message:
        "magchanger-refresh@c1.timer is not enabled: a Bacula update that failed waits for the next disk change",
      fix: "systemctl enable --now magchanger-refresh@c1.timer",
    });
  });

  test("a slow changer's timeout drop-ins are checked: OK when setup wrote them, WARN when one is gone", async () => {
    const { prefix, doctor } = staged("c1", "lock_timeout = 600");
    expect((await doctor()).map((c) => c.status)).toEqual(["ok", "ok", "ok"]);
    rmSync(join(prefix, "etc/systemd/system/magchanger-retry@c1.service.d"), {
      recursive: true,
    });
    expect((await doctor()).map((c) => c.status)).toEqual(["ok", "ok", "warn"]);
    rmSync(join(prefix, "etc/systemd/system/magchanger-refresh@c1.service.d"), {
      recursive: true,
    });
    const [check] = await doctor();
    expect(check?.status).toBe("warn");
    expect(check?.message).toContain(
      "a refresh of this changer may take 1380 s (lock_timeout twice and [bacula] timeout), the template allows 600 s",
    );
  });

  test("a config file name systemd cannot take is one WARN with the rename", async () => {
    const { doctor } = staged("c+1");
    const checks = await doctor();
    expect(checks).toHaveLength(1);
    expect(checks[0]?.message).toBe(
      'the config\'s file name "c+1" cannot name a systemd unit: unlock cannot queue a refresh of Bacula',
    );
  });
});
