// doctor reads bacula-sd.conf and its @includes (issue 11, item 1): each Device of the
// Autochanger whose Changer Device is this config must open WORK_DIR/driveN.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  directive,
  listDirective,
  parseBaculaConf,
  readBaculaConf,
} from "../../src/bacula/conf.ts";
import { validateConfig } from "../../src/config/load.ts";
import {
  checkSdDevices,
  checkSdPassword,
} from "../../src/doctor/bacula-conf.ts";
import type { DoctorContext } from "../../src/doctor/context.ts";
import { realSystem } from "../../src/system/system.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("doctor-bacula-conf");
afterAll(() => removeTempDir(dir));
const CONF = "/etc/magchanger/usb1.toml";

function context(): DoctorContext {
  const config = validateConfig(
    {
      name: "usb1",
      work_dir: "/var/lib/magchanger/usb1",
      drives: 2,
      magazine: [{ path: "/mnt/usb1/magazine" }],
    },
    CONF,
  );
  return {
    config,
    configFile: CONF,
    configPath: CONF,
    prefix: "/",
    binary: undefined,
    who: undefined,
    sys: realSystem(config.tools),
    configDir: "/etc/magchanger",
  };
}

const DEVICES = `Device {
  Name = usb1-drive0   # vchanger 1.0 habit below
  Drive Index = 0
  ArchiveDevice = "/var/lib/magchanger/usb1/0"
  Autochanger = yes
}
Device { Name = "usb1-drive1"; DriveIndex = 1; Archive Device = /var/lib/magchanger/usb1/drive1 }
`;

describe("the SD's config", () => {
  test("parses resources, directives in any spelling, lists and nested blocks", () => {
    const r = parseBaculaConf(
      `Autochanger {\n  Name = "usb changer"\n  Device = usb1-drive0, "usb1-drive1"\n  Changer Device = ${CONF}\n}\nFileSet { Name = fs\n Include { File = /x } \n}\n${DEVICES}`,
      "sd.conf",
    );
    expect(r.map((x) => x.type)).toEqual([
      "autochanger",
      "fileset",
      "device",
      "device",
    ]);
    expect(directive(r[0]!, "name")).toBe("usb changer");
    expect(listDirective(r[0]!, "DEVICE")).toEqual([
      "usb1-drive0",
      "usb1-drive1",
    ]);
    expect(directive(r[1]!, "File")).toBeUndefined();
    expect(directive(r[2]!, "Archive Device")).toBe(
      "/var/lib/magchanger/usb1/0",
    );
    expect(directive(r[3]!, "drive index")).toBe("1");
  });

  test("an @include naming a FIFO, /dev/zero or a file over the cap is skipped at once: never opened, never read", () => {
    const sub = join(dir, "planted");
    mkdirSync(sub, { recursive: true });
    Bun.spawnSync(["mkfifo", join(sub, "fifo")]);
    writeFileSync(join(sub, "huge"), "");
    Bun.spawnSync(["truncate", "-s", "1G", join(sub, "huge")]);
    const sd = join(sub, "bacula-sd.conf");
    writeFileSync(
      sd,
      `Storage { Name = sd }\n@${join(sub, "fifo")}\n@/dev/zero\n@${join(sub, "huge")}\nDirector {\n  Name = dir\n}\n`,
    );
    const started = Date.now();
    expect(readBaculaConf(sd).map((r) => r.type)).toEqual([
      "storage",
      "director",
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("a Device through an @include with Archive Device WORK_DIR/0 FAILs with the line to set", () => {
    const sub = join(dir, "bacula");
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, "devices.conf"), DEVICES);
    writeFileSync(
      join(sub, "changer.conf"),
      `Autochanger {\n  Name = usb1\n  Device = usb1-drive0, usb1-drive1\n  Changer Command = "/usr/local/bin/magchanger changer %c %o %S %a %d"\n  Changer Device = ${CONF}\n}\n@devices.conf\n`,
    );
    const sd = join(sub, "bacula-sd.conf");
    writeFileSync(
      sd,
      `Storage { Name = sd }\nDirector {\n  Name = dir\n  Password = "secret"\n}\n@${join(sub, "changer.conf")}\n@|"echo never run"\n`,
    );
    expect(readBaculaConf(sd).map((r) => r.type)).toEqual([
      "storage",
      "director",
      "autochanger",
      "device",
      "device",
    ]);
    expect(checkSdDevices(context(), sd)).toEqual([
      {
        status: "fail",
        name: "sd devices",
        message: `Device "usb1-drive0" (Drive Index 0) in ${join(sub, "devices.conf")} has Archive Device = /var/lib/magchanger/usb1/0: every load through it fails (the SD would write outside every magazine)`,
        fix: 'set Archive Device = /var/lib/magchanger/usb1/drive0 in Device "usb1-drive0", then systemctl restart bacula-sd',
      },
      {
        status: "ok",
        name: "sd devices",
        message:
          'Device "usb1-drive1" (Drive Index 1) opens /var/lib/magchanger/usb1/drive1',
      },
    ]);
    const dirConf = join(sub, "bacula-dir.conf");
    writeFileSync(
      dirConf,
      `Storage {\n  Name = usb1\n  Password = "other"\n}\n`,
    );
    expect(
      checkSdPassword(context(), sd, dirConf).map((c) => c.status),
    ).toEqual(["fail"]);
    writeFileSync(
      dirConf,
      `Storage {\n  Name = usb1\n  Password = "secret"\n}\n`,
    );
    expect(
      checkSdPassword(context(), sd, dirConf).map((c) => c.status),
    ).toEqual(["ok"]);
  });

  test("a Device with Removable Media = no (vchanger's how-to, earlier setups) is a WARN with the line to set; yes or none is not", () => {
    const sd = join(dir, "removable-sd.conf");
    writeFileSync(
      sd,
      `Autochanger {\n  Name = usb1\n  Device = usb1-drive0, usb1-drive1, usb1-drive2\n  Changer Device = ${CONF}\n}\n` +
        `Device {\n  Name = usb1-drive0\n  DriveIndex = 0\n  ArchiveDevice = /var/lib/magchanger/usb1/drive0\n  RemovableMedia = no;\n}\n` +
        `Device {\n  Name = usb1-drive1\n  Drive Index = 1\n  Archive Device = /var/lib/magchanger/usb1/drive1\n  Removable Media = yes\n}\n`,
    );
    const checks = checkSdDevices(context(), sd);
    expect(checks.filter((c) => c.status !== "ok")).toEqual([
      {
        status: "warn",
        name: "sd devices",
        message: `Device "usb1-drive0" in ${sd} has Removable Media = no: when a backup fills the attached disk and the Director picks a volume of a disk in the drawer, the storage daemon marks that good volume Error instead of waiting for its disk`,
        fix: 'set Removable Media = yes in Device "usb1-drive0" (`magchanger setup --write` rewrites the stanza it wrote), then systemctl restart bacula-sd when no job runs',
      },
      {
        status: "fail",
        name: "sd devices",
        message: `Autochanger "usb1" in ${sd} names Device "usb1-drive2", which is not defined`,
        fix: `define Device "usb1-drive2" in ${sd}, then systemctl restart bacula-sd`,
      },
    ]);
    // Bacula's default is yes: a Device without the directive is not reported.
    writeFileSync(
      sd,
      `Autochanger {\n  Name = usb1\n  Device = usb1-drive0\n  Changer Device = ${CONF}\n}\nDevice {\n  Name = usb1-drive0\n  Archive Device = /var/lib/magchanger/usb1/drive0\n}\n`,
    );
    expect(checkSdDevices(context(), sd).map((c) => c.status)).toEqual(["ok"]);
  });

  test("no Autochanger for this config is a WARN naming the Changer Device to set", () => {
    const sd = join(dir, "plain-sd.conf");
    writeFileSync(sd, DEVICES);
    expect(checkSdDevices(context(), sd)[0]).toMatchObject({
      status: "warn",
      message: `no Autochanger in ${sd} (or its @includes) has Changer Device = ${CONF}`,
    });
  });
});
