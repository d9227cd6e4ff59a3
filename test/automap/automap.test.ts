// The autofs map entry for a key, and which config a lookup answers from.
import { skipUnless } from "../helpers/capabilities.ts";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { automapConfig, changerOfMapName } from "../../src/automap/discover.ts";
import {
  type AutomapDeps,
  mapEntry,
  NoMapEntryError,
} from "../../src/automap/resolve.ts";
import { parseConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const BASE = 'name = "usb1"\n[[magazine]]\npath = "/mnt/usb1/magazine"\n';

function config(extra = "", magazines = "") {
  return parseConfigText(
    `${BASE}${magazines}\n${extra}`,
    "/etc/magchanger/usb1.toml",
  );
}

function deps(devices: {
  mapper?: string[];
  label?: Record<string, string>;
  uuid?: Record<string, string>;
}): AutomapDeps & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    isBlockDevice: (path) => (devices.mapper ?? []).includes(path),
    findFilesystem: async (by, value) => {
      asked.push(`${by}=${value}`);
      return devices[by]?.[value];
    },
  };
}

describe("map entry", () => {
  test("the unlocked LUKS disk, with the configured options", async () => {
    expect(
      await mapEntry(
        config(),
        "magazine",
        deps({ mapper: ["/dev/mapper/bacula"] }),
      ),
    ).toBe("-fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/mapper/bacula");
    const custom = config(
      '[automap]\nkey = "disk"\nfstype = "ext4"\noptions = "rw,nosuid"\n[luks]\nmapper = "vault"\n',
    );
    expect(
      await mapEntry(custom, "disk", deps({ mapper: ["/dev/mapper/vault"] })),
    ).toBe("-fstype=ext4,rw,nosuid :/dev/mapper/vault");
  });

  test("no options: just the fstype", async () => {
    expect(
      await mapEntry(
        config('[automap]\noptions = ""\n'),
        "magazine",
        deps({ mapper: ["/dev/mapper/bacula"] }),
      ),
    ).toBe("-fstype=auto :/dev/mapper/bacula");
  });

  test("falls back to [automap] label, then uuid, through blkid", async () => {
    const c = config(
      '[automap]\nlabel = "usbchanger1"\nuuid = "0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a"\n',
    );
    const byLabel = deps({ label: { usbchanger1: "/dev/sdc1" } });
    expect(await mapEntry(c, "magazine", byLabel)).toBe(
      "-fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/sdc1",
    );
    const byUuid = deps({
      uuid: { "0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a": "/dev/sdd1" },
    });
    expect(await mapEntry(c, "magazine", byUuid)).toEndWith(" :/dev/sdd1");
    expect(byUuid.asked).toEqual([
      "label=usbchanger1",
      "uuid=0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a",
    ]);
  });

  test("luks = false skips /dev/mapper", async () => {
    const c = config('[automap]\nluks = false\nlabel = "L"\n');
    expect(
      await mapEntry(
        c,
        "magazine",
        deps({ mapper: ["/dev/mapper/bacula"], label: { L: "/dev/loop3" } }),
      ),
    ).toEndWith(" :/dev/loop3");
  });

  test("a [[magazine]] label or uuid is a key of its own", async () => {
    const c = config(
      "",
      '[[magazine]]\nlabel = "offsite2"\n[[magazine]]\nuuid = "0B7F3C9E-2A4D-4F61-9A57-3C1E0F1D2B6A"\n',
    );
    expect(
      await mapEntry(c, "offsite2", deps({ label: { offsite2: "/dev/sde1" } })),
    ).toEndWith(" :/dev/sde1");
    expect(
      await mapEntry(
        c,
        "0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a",
        deps({ uuid: { "0B7F3C9E-2A4D-4F61-9A57-3C1E0F1D2B6A": "/dev/sdf1" } }),
      ),
    ).toEndWith(" :/dev/sdf1");
  });

  test("an absent disk is NoMapEntryError naming what was tried", async () => {
    const c = config('[automap]\nlabel = "usbchanger1"\n');
    const error = await mapEntry(c, "magazine", deps({})).catch((e) => e);
    expect(error).toBeInstanceOf(NoMapEntryError);
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe(
      'automap: no disk for "magazine": /dev/mapper/bacula is not open, no attached filesystem has label "usbchanger1"; attach (and unlock) the disk, then retry',
    );
  });

  test("an unknown key lists the keys the config answers", async () => {
    const error = await mapEntry(config(), "../etc", deps({})).catch((e) => e);
    expect(error).toBeInstanceOf(NoMapEntryError);
    expect(error.message).toBe(
      'automap: unknown key "../etc"; /etc/magchanger/usb1.toml answers "magazine"',
    );
  });

  test("several bays: each bay's key answers with its own mapping, and an unknown key lists them all", async () => {
    const c = config(
      "",
      '[[magazine]]\npath = "/mnt/usb1/magazine2"\nmapper = "bacula2"\n[[magazine]]\npath = "/mnt/usb1/east"\nmapper = "bacula-east"\n',
    );
    const both = deps({
      mapper: [
        "/dev/mapper/bacula",
        "/dev/mapper/bacula2",
        "/dev/mapper/bacula-east",
      ],
    });
    expect(await mapEntry(c, "magazine", both)).toBe(
      "-fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/mapper/bacula",
    );
    expect(await mapEntry(c, "magazine2", both)).toBe(
      "-fstype=auto,rw,nodev,nosuid,noexec,noatime :/dev/mapper/bacula2",
    );
    expect(await mapEntry(c, "east", both)).toEndWith(
      " :/dev/mapper/bacula-east",
    );
    const unknown = await mapEntry(c, "magazine3", both).catch((e) => e);
    expect(unknown.message).toBe(
      'automap: unknown key "magazine3"; /etc/magchanger/usb1.toml answers "magazine", "magazine2", "east"',
    );
  });

  test("several bays: a bay whose disk is not unlocked gives no entry, naming its own mapping", async () => {
    const c = config(
      "",
      '[[magazine]]\npath = "/mnt/usb1/magazine2"\nmapper = "bacula2"\n',
    );
    const error = await mapEntry(
      c,
      "magazine2",
      deps({ mapper: ["/dev/mapper/bacula"] }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(NoMapEntryError);
    expect(error.message).toBe(
      'automap: no disk for "magazine2": /dev/mapper/bacula2 is not open; attach the disk (udev unlocks it), then retry',
    );
  });

  test("a device blkid reports with characters autofs would misparse is refused", async () => {
    const error = await mapEntry(
      config('[automap]\nluks = false\nlabel = "L"\n'),
      "magazine",
      deps({ label: { L: "/dev/odd name" } }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(NoMapEntryError);
  });
});

const CONFIG_SUITE = "which config a lookup answers from";

describe.skipIf(skipUnless(["root"], CONFIG_SUITE))(CONFIG_SUITE, () => {
  let dir: string;
  const env = () => ({ MAGCHANGER_CONFIG_DIR: dir });
  const write = (file: string, text: string) =>
    writeFileSync(join(dir, file), text, { mode: 0o644 });

  beforeEach(() => {
    dir = makeTempDir("automap-conf");
    mkdirSync(dir, { recursive: true });
  });
  afterEach(() => removeTempDir(dir));

  test("a link named auto.NAME reads NAME.toml from the config dir", () => {
    write("usb1.toml", BASE);
    write(
      "usb2.toml",
      'name = "usb2"\n[[magazine]]\npath = "/mnt/usb2/magazine"\n',
    );
    expect(changerOfMapName("/etc/auto.usb2")).toBe("usb2");
    expect(changerOfMapName("/usr/local/bin/magchanger")).toBeUndefined();
    const found = automapConfig({
      explicit: undefined,
      argv0: "/etc/auto.usb2",
      key: "magazine",
      cwd: "/mnt/usb2",
      env: env(),
    });
    expect(found.name).toBe("usb2");
    expect(() =>
      automapConfig({
        explicit: undefined,
        argv0: "/etc/auto.usb9",
        key: "magazine",
        cwd: "/",
        env: env(),
      }),
    ).toThrow(
      `automap: map auto.usb9 answers from ${dir}/usb9.toml, which does not exist; name the map link auto.<changer> after the changer's config file`,
    );
  });

  test("any other name searches the dir for the changer that answers the key", () => {
    write("usb1.toml", BASE);
    write("usb2.toml", 'name = "usb2"\n[[magazine]]\nlabel = "offsite2"\n');
    const lookup = {
      explicit: undefined,
      argv0: "/usr/sbin/magchanger-automap",
      cwd: "/mnt",
      env: env(),
    };
    expect(automapConfig({ ...lookup, key: "offsite2" }).name).toBe("usb2");
    expect(() => automapConfig({ ...lookup, key: "nothing" })).toThrow(
      NoMapEntryError,
    );
  });

  test("two changers answering the same key: the mount point (autofs's cwd) decides, else it is an error", () => {
    write("usb1.toml", BASE);
    write(
      "usb2.toml",
      'name = "usb2"\n[[magazine]]\npath = "/mnt/usb2/magazine"\n',
    );
    const lookup = {
      explicit: undefined,
      argv0: "magchanger",
      key: "magazine",
      env: env(),
    };
    expect(automapConfig({ ...lookup, cwd: "/mnt/usb2" }).name).toBe("usb2");
    expect(automapConfig({ ...lookup, cwd: "/mnt/usb1" }).name).toBe("usb1");
    expect(() => automapConfig({ ...lookup, cwd: "/srv" })).toThrow(
      ConfigError,
    );
  });

  test("-c wins", () => {
    write("x.toml", BASE);
    expect(
      automapConfig({
        explicit: join(dir, "x.toml"),
        argv0: "/etc/auto.usb9",
        key: "magazine",
        cwd: "/",
        env: env(),
      }).name,
    ).toBe("usb1");
  });
});
