// setup --write as a function: idempotent, backups of what it changes, refusals before any write.
import { skipUnless } from "../helpers/capabilities.ts";
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { applyPlan } from "../../src/setup/apply.ts";
import { planSetup } from "../../src/setup/plan.ts";
import type { GenerateOptions } from "../../src/setup/udev.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { snapshot } from "./snapshot.ts";

const root = process.getuid?.() === 0;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

let prefix = "";
beforeEach(() => {
  prefix = makeTempDir("setup-apply");
  dirs.push(prefix);
});

function options(
  binary = "/usr/local/bin/magchanger",
  drives = 1,
): GenerateOptions {
  // root:root so the test needs no bacula user; the owner logic is the same.
  const owner = root ? 'user = "root"\ngroup = "root"' : "";
  const config = parseConfigText(
    `name = "c1"\ndrives = ${drives}\n${owner}\n[[magazine]]\npath = "/mnt/c1/magazine"\n`,
    "/etc/magchanger/c1.toml",
  );
  return {
    config,
    configPath: "/etc/magchanger/c1.toml",
    binary,
    mediaType: "c1",
  };
}

const write = (o = options()) => applyPlan(planSetup(o), { prefix, root });

describe("setup --write", () => {
  test("installs every piece below the prefix, and a second run changes nothing", () => {
    const first = write();
    expect(
      first
        .filter((o) => o.status === "created")
        .map((o) => relative(prefix, o.path)),
    ).toEqual([
      "etc/udev/rules.d/90-magchanger-c1.rules",
      "etc/auto.master.d/magchanger-c1.autofs",
      "etc/auto.c1",
      "etc/systemd/system/magchanger-refresh@.service",
      "etc/systemd/system/magchanger-retry@.service",
      "etc/systemd/system/magchanger-refresh@.timer",
      "etc/bacula/magchanger-c1-sd.conf",
      "etc/bacula/magchanger-c1-dir.conf",
      ...(root
        ? ["etc/magchanger", "etc/magchanger/luks.key"]
        : ["etc/magchanger"]),
      "var/lib/magchanger/c1",
      "var/log/magchanger",
      "var/log/magchanger/c1.log",
    ]);
    expect(readlinkSync(join(prefix, "etc/auto.c1"))).toBe(
      "/usr/local/bin/magchanger",
    );
    expect(statSync(join(prefix, "var/lib/magchanger/c1")).mode & 0o7777).toBe(
      0o750,
    );
    const before = snapshot(prefix);
    const second = write();
    expect(
      second
        .map((o) => o.status)
        .filter((s) => s !== "unchanged" && s !== "skipped"),
    ).toEqual([]);
    expect(snapshot(prefix)).toEqual(before);
  });

  test("a file it changes is kept as FILE.magchanger-bak, and an older backup is never overwritten", () => {
    write();
    const rule = join(prefix, "etc/udev/rules.d/90-magchanger-c1.rules");
    writeFileSync(rule, "# the admin's edit\n");
    const changed = write(options("/opt/mc/bin/magchanger"));
    const outcome = changed.find((o) => o.path === rule);
    expect(outcome).toMatchObject({
      status: "changed",
      backup: `${rule}.magchanger-bak`,
    });
    expect(readFileSync(`${rule}.magchanger-bak`, "utf8")).toBe(
      "# the admin's edit\n",
    );
    expect(readFileSync(rule, "utf8")).toContain(
      'RUN+="/opt/mc/bin/magchanger unlock',
    );
    const link = join(prefix, "etc/auto.c1");
    expect(readlinkSync(`${link}.magchanger-bak`)).toBe(
      "/usr/local/bin/magchanger",
    );
    expect(readlinkSync(link)).toBe("/opt/mc/bin/magchanger");

    const previous = readFileSync(rule, "utf8");
    write();
    expect(readFileSync(`${rule}.magchanger-bak`, "utf8")).toBe(
      "# the admin's edit\n",
    );
    expect(readFileSync(`${rule}.magchanger-bak.2`, "utf8")).toBe(previous);
  });

  test("an SD stanza an earlier setup wrote with Removable Media = no is rewritten with yes, the old one kept as .magchanger-bak", () => {
    const stanza = join(prefix, "etc/bacula/magchanger-c1-sd.conf");
    const current = planSetup(options()).pieces.find(
      (p) => p.path === "/etc/bacula/magchanger-c1-sd.conf",
    );
    if (current?.kind !== "file") throw new Error("no SD stanza planned");
    expect(current.content).toContain("  Removable Media = yes\n");
    const earlier = current.content.replace(
      "  Removable Media = yes\n",
      "  Removable Media = no\n",
    );
    mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
    writeFileSync(stanza, earlier);
    expect(write().find((o) => o.path === stanza)).toMatchObject({
      status: "changed",
      backup: `${stanza}.magchanger-bak`,
    });
    expect(readFileSync(stanza, "utf8")).toBe(current.content);
    expect(readFileSync(`${stanza}.magchanger-bak`, "utf8")).toBe(earlier);
    expect(write().find((o) => o.path === stanza)?.status).toBe("unchanged");
  });

  test("the include line is appended once to an existing daemon config, keeping its mode", () => {
    const sd = join(prefix, "etc/bacula/bacula-sd.conf");
    mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
    writeFileSync(sd, "Storage {\n  Name = sd\n}");
    chmodSync(sd, 0o640);
    const outcome = write().find((o) => o.path === sd);
    expect(outcome).toMatchObject({
      status: "changed",
      backup: `${sd}.magchanger-bak`,
    });
    expect(readFileSync(sd, "utf8")).toBe(
      'Storage {\n  Name = sd\n}\n\n# magchanger changer "c1" (added by magchanger setup)\n@/etc/bacula/magchanger-c1-sd.conf\n',
    );
    expect(statSync(sd).mode & 0o7777).toBe(0o640);
    expect(write().find((o) => o.path === sd)?.status).toBe("unchanged");
    expect(
      readFileSync(sd, "utf8").match(/@\/etc\/bacula\/magchanger-c1-sd.conf/g),
    ).toHaveLength(1);
  });

  // Debian ships bacula-sd.conf as bacula:bacula 0640 in root's /etc/bacula: root may edit it
  // (nobody else can point that path elsewhere); a second name for it is still refused.
  test.skipIf(!root)(
    "as root, a daemon config its daemon owns in a root-only directory gets the line, keeping owner and mode",
    () => {
      const sd = join(prefix, "etc/bacula/bacula-sd.conf");
      mkdirSync(join(prefix, "etc/bacula"), { recursive: true });
      writeFileSync(sd, "Storage {\n  Name = sd\n}\n", { mode: 0o640 });
      chownSync(sd, 12345, 12346);
      expect(write().find((o) => o.path === sd)?.status).toBe("changed");
      expect(readFileSync(sd, "utf8")).toContain(
        "\n@/etc/bacula/magchanger-c1-sd.conf\n",
      );
      const stats = statSync(sd);
      expect([stats.uid, stats.gid, stats.mode & 0o7777]).toEqual([
        12345, 12346, 0o640,
      ]);
      const other = join(prefix, "second-name");
      linkSync(sd, other);
      writeFileSync(sd, "Storage {\n  Name = sd\n}\n");
      expect(() => write()).toThrow(
        `refusing to edit ${sd}: ${sd} has 2 hard links; make it root's (chown root FILE; chmod go-w DIR) or add the line \`@/etc/bacula/magchanger-c1-sd.conf\` by hand`,
      );
      expect(readFileSync(sd, "utf8")).toBe("Storage {\n  Name = sd\n}\n");
    },
  );

  test("a daemon config that does not exist here is left alone, with the line to add", () => {
    const outcome = write().find((o) => o.path.endsWith("bacula-dir.conf"));
    expect(outcome?.status).toBe("skipped");
    expect(outcome?.detail).toContain("@/etc/bacula/magchanger-c1-dir.conf");
    expect(existsSync(join(prefix, "etc/bacula/bacula-dir.conf"))).toBe(false);
  });

  test.skipIf(
    skipUnless(
      ["root"],
      "the key is made once, 0400 root's, and an existing key is never replaced",
    ),
  )(
    "the key is made once, 0400 root's, and an existing key is never replaced",
    () => {
      write();
      const key = join(prefix, "etc/magchanger/luks.key");
      const stats = statSync(key);
      expect({
        mode: stats.mode & 0o7777,
        uid: stats.uid,
        size: stats.size,
      }).toEqual({ mode: 0o400, uid: 0, size: 4096 });
      const bytes = readFileSync(key);
      chmodSync(key, 0o600);
      writeFileSync(key, "old key");
      expect(write().find((o) => o.path === key)?.status).toBe("unchanged");
      expect(readFileSync(key, "utf8")).toBe("old key");
      expect(bytes.equals(readFileSync(key))).toBe(false);
    },
  );

  test.skipIf(
    skipUnless(
      ["root"],
      "an existing work dir is given to the run-as user, a shared log dir is left alone",
    ),
  )(
    "an existing work dir is given to the run-as user, a shared log dir is left alone",
    () => {
      const config = parseConfigText(
        'name = "c1"\nuser = "nobody"\ngroup = "nogroup"\nlog_file = "/var/log/c1.log"\n[[magazine]]\npath = "/mnt/c1/magazine"\n',
        "/etc/magchanger/c1.toml",
      );
      mkdirSync(join(prefix, "var/lib/magchanger/c1"), { recursive: true });
      mkdirSync(join(prefix, "var/log"), { recursive: true });
      const o = {
        config,
        configPath: "/etc/magchanger/c1.toml",
        binary: "/usr/local/bin/magchanger",
        mediaType: "c1",
      };
      const outcomes = write(o);
      const nobody = statSync(join(prefix, "var/lib/magchanger/c1"));
      expect(
        outcomes.find((x) => x.path.endsWith("var/lib/magchanger/c1"))?.status,
      ).toBe("changed");
      expect(nobody.uid).toBe(65534);
      expect(statSync(join(prefix, "var/log")).uid).toBe(0);
      expect(statSync(join(prefix, "var/log/c1.log")).uid).toBe(65534);
    },
  );

  test("a piece that cannot be installed fails before anything is written", () => {
    mkdirSync(join(prefix, "etc/bacula/magchanger-c1-sd.conf"), {
      recursive: true,
    });
    const before = snapshot(prefix);
    expect(() => write()).toThrow(
      /^cannot install .*magchanger-c1-sd.conf \(storage daemon: .*\): it is a directory; move it away$/,
    );
    expect(snapshot(prefix)).toEqual(before);
  });

  test.skipIf(
    skipUnless(
      ["root"],
      "an unknown run-as user fails before anything is written",
    ),
  )("an unknown run-as user fails before anything is written", () => {
    const o = options();
    o.config.user = "magchanger-no-such-user";
    expect(() => write(o)).toThrow(
      'run-as user "magchanger-no-such-user" does not exist',
    );
    expect(readdirSync(prefix)).toEqual([]);
  });
});
