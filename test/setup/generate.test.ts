// What setup generates, piece by piece (the real tools check the Bacula stanzas in bacula.test.ts).
import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../src/config/load.ts";
import { autofsMasterEntry } from "../../src/setup/autofs.ts";
import { dirStanza, sdStanza } from "../../src/setup/bacula.ts";
import { exampleClient } from "../../src/bacula/director.ts";
import {
  keyBay,
  checkSafePath,
  installPaths,
  livePath,
} from "../../src/config/layout.ts";
import { planSetup } from "../../src/setup/plan.ts";
import { type GenerateOptions, udevRule } from "../../src/setup/udev.ts";

const BIN = "/usr/local/bin/magchanger";
const CONF = "/etc/magchanger/usbchanger1.toml";

function options(
  extra = "",
  bay = 'path = "/mnt/usbchanger1/magazine"',
): GenerateOptions {
  const config = parseConfigText(
    `name = "usbchanger1"\ndrives = 2\n${extra}\n[[magazine]]\n${bay}\n`,
    CONF,
  );
  return { config, configPath: CONF, binary: BIN, mediaType: "usbchanger1" };
}

const ruleLines = (text: string) =>
  text.split("\n").filter((l) => l && !l.startsWith("#"));

describe("udev rule", () => {
  test("opens LUKS disks on USB through unlock with the mapper name, and closes them on remove", () => {
    const lines = ruleLines(udevRule(options()));
    expect(lines).toEqual([
      'ACTION=="add|change", SUBSYSTEMS=="usb", SUBSYSTEM=="block", ENV{ID_FS_TYPE}=="crypto_LUKS", RUN+="/usr/local/bin/magchanger unlock /dev/%k bacula"',
      'ACTION=="remove", SUBSYSTEM=="block", ENV{ID_BUS}=="usb", ENV{ID_FS_TYPE}=="crypto_LUKS", RUN+="/usr/local/bin/magchanger unlock --remove /dev/%k bacula"',
    ]);
  });

  test("never uses the obsolete BUS key", () => {
    for (const line of ruleLines(udevRule(options())))
      expect(line).not.toMatch(/(^|[ ,])BUS==/);
  });

  test("allowed LUKS UUIDs narrow the rule so two changers never race for one disk", () => {
    const o = options(
      '[luks]\nmapper = "offsite"\nallowed_uuids = ["0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a", "11111111-2222-3333-4444-555555555555"]',
    );
    for (const line of ruleLines(udevRule(o))) {
      expect(line).toContain(
        'ENV{ID_FS_UUID}=="0b7f3c9e-2a4d-4f61-9a57-3c1e0f1d2b6a|11111111-2222-3333-4444-555555555555"',
      );
      expect(line).toMatch(/ \/dev\/%k offsite"$/);
    }
  });

  test("its file sorts after 60-persistent-storage.rules, which sets the ID_FS_* properties it matches", () => {
    const name = installPaths("usbchanger1", CONF)
      .udevRule.split("/")
      .pop() as string;
    expect(name).toBe("90-magchanger-usbchanger1.rules");
    expect(
      [name, "60-persistent-storage.rules", "99-unlock-luks.rules"].sort(),
    ).toEqual(["60-persistent-storage.rules", name, "99-unlock-luks.rules"]);
  });
});

describe("autofs", () => {
  test("the master entry mounts the bay's parent with the map named after the config file", () => {
    const o = options();
    const lines = ruleLines(autofsMasterEntry(o) as string);
    expect(lines).toEqual([
      "/mnt/usbchanger1 program:/etc/auto.usbchanger1 --timeout=10 --negative-timeout=5",
    ]);
    expect(installPaths("usbchanger1", CONF)).toMatchObject({
      autofsMaster: "/etc/auto.master.d/magchanger-usbchanger1.autofs",
      autofsMap: "/etc/auto.usbchanger1",
    });
  });

  test("two bays: still one master line for the mount dir, its comment names both keys and mappings; the udev rule is unchanged", () => {
    const two = options(
      "",
      'path = "/mnt/usbchanger1/magazine"\n[[magazine]]\npath = "/mnt/usbchanger1/magazine2"\nmapper = "bacula2"',
    );
    const entry = autofsMasterEntry(two) as string;
    expect(ruleLines(entry)).toEqual([
      "/mnt/usbchanger1 program:/etc/auto.usbchanger1 --timeout=10 --negative-timeout=5",
    ]);
    expect(entry).toContain(
      `# magchanger changer "usbchanger1": mount each attached disk at its bay (/mnt/usbchanger1/magazine, /mnt/usbchanger1/magazine2) when it is\n`,
    );
    expect(entry).toContain(
      `lookups of "magazine", "magazine2" (\`automap KEY\`) with the mount entry of the disk\n# attached in that bay now (/dev/mapper/bacula, /dev/mapper/bacula2).\n`,
    );
    expect(udevRule(two)).toBe(udevRule(options()));
    // A disk prepared while bay 1's is open would get bay 2's name: mkfs on bay 1's would erase it.
    const prepare = (o: GenerateOptions) =>
      planSetup(o).notes.find((n) => n.startsWith("prepare each disk"));
    expect(prepare(two)).toStartWith(
      "prepare each disk (this erases it), with no other disk of this changer plugged in (else udev opens it under the next bay's mapper, and the mkfs below would erase the disk in bay 1): echo 'type=83'",
    );
    expect(prepare(options())).toStartWith(
      "prepare each disk (this erases it): echo 'type=83'",
    );
  });

  test("no entry when no bay path ends in automap.key", () => {
    const o = options("", 'label = "offsite2"');
    expect(keyBay(o.config)).toBeUndefined();
    expect(autofsMasterEntry(o)).toBeUndefined();
    const plan = planSetup(o);
    expect(plan.pieces.some((p) => p.path.includes("auto"))).toBe(false);
    expect(plan.notes[0]).toContain("no autofs map was generated");
  });
});

describe("Bacula stanzas", () => {
  test("the Autochanger runs the changer form with the config as Changer Device", () => {
    const text = sdStanza(options());
    expect(text).toContain(
      'Changer Command = "/usr/local/bin/magchanger changer %c %o %S %a %d"',
    );
    expect(text).toContain(`Changer Device = "${CONF}"`);
    expect(text).toContain(
      'Device = "usbchanger1-drive-0", "usbchanger1-drive-1"',
    );
  });

  test("one Device per drive, its Archive Device the drive link in the work dir", () => {
    const text = sdStanza(options('work_dir = "/srv/mag chg/w"'));
    const devices = text.split("Device {").slice(1);
    expect(devices).toHaveLength(2);
    devices.forEach((device, i) => {
      expect(device).toContain(`Drive Index = ${i}`);
      expect(device).toContain(`Archive Device = "/srv/mag chg/w/drive${i}"`);
      for (const line of [
        "Autochanger = yes",
        "Device Type = File",
        // A volume of a disk in the drawer is waited for by name, never marked Error (9.6.7).
        "Removable Media = yes",
        "Random Access = yes",
        "Label Media = no",
        "Automatic Mount = yes",
      ]) {
        expect(device).toContain(line);
      }
    });
  });

  test("the Director's Storage names the Autochanger and marks what the admin must fill in", () => {
    const text = dirStanza(options(), "the SD password");
    expect(text).toContain('Device = "usbchanger1"');
    expect(text).toContain("Autochanger = yes");
    expect(text).toContain('Address = "CHANGE-ME"');
    expect(text).toContain('Password = "CHANGE-ME"');
    expect(text).toContain("# CHANGE-ME: the SD password");
  });
});

describe("paths", () => {
  test("a path below the prefix is written into the files as the live system sees it", () => {
    expect(livePath("/tmp/p", "/tmp/p/etc/magchanger/a.toml")).toBe(
      "/etc/magchanger/a.toml",
    );
    expect(livePath("/tmp/p", "/srv/a.toml")).toBe("/srv/a.toml");
    expect(livePath("/", "/srv/a.toml")).toBe("/srv/a.toml");
  });

  test("paths Bacula or udev would split or expand are refused with the fix", () => {
    expect(() =>
      checkSafePath(
        "/opt/my tools/magchanger",
        "--binary",
        "install it to /usr/local/bin",
      ),
    ).toThrow(
      /^--binary "\/opt\/my tools\/magchanger" cannot be written .*; install it to \/usr\/local\/bin$/,
    );
    for (const bad of ["/a/%k", "/a/$x", '/a/"q', "relative"])
      expect(() => checkSafePath(bad, "x", "y")).toThrow();
    expect(() =>
      checkSafePath("/usr/local/bin/magchanger", "x", "y"),
    ).not.toThrow();
  });
});

describe("the Director's Pool and example jobs", () => {
  const facts = (clients: string[], pools: string[] = []) => ({
    file: "/etc/bacula/bacula-dir.conf",
    clients,
    pools,
    messages: ["Standard", "Daemon"],
  });
  const dirFile = (o: GenerateOptions) =>
    planSetup(o).pieces.find(
      (p) => p.path === "/etc/bacula/magchanger-usbchanger1-dir.conf",
    );
  const text = (o: GenerateOptions) => {
    const piece = dirFile(o);
    return piece?.kind === "file" ? piece.content : "";
  };
  const withJobs = (
    extra: string,
    director: ReturnType<typeof facts> | undefined,
  ): GenerateOptions => ({
    ...options(extra),
    jobs: { director, client: exampleClient(director, "vm.example.org") },
  });

  test("with [bacula] pool: a Pool on this Storage without Label Format, and an example Job and restore Job that use it", () => {
    const t = text(
      withJobs('[bacula]\npool = "usbchanger1-pool"', facts(["vm-fd"])),
    );
    expect(t).toContain(
      'Pool {\n  Name = "usbchanger1-pool"\n  Pool Type = Backup\n  Storage = "usbchanger1"\n',
    );
    expect(t).not.toMatch(/^\s*Label Format =/m);
    expect(t).toContain(
      'Job {\n  Name = "usbchanger1-example"\n  Type = Backup\n  Level = Full\n  Client = "vm-fd"\n  FileSet = "usbchanger1-example"\n  Storage = "usbchanger1"\n  Pool = "usbchanger1-pool"\n  Messages = "Standard"\n}',
    );
    expect(t).toContain(
      'Job {\n  Name = "usbchanger1-restore"\n  Type = Restore\n  Client = "vm-fd"\n',
    );
    expect(t).toContain("# EXAMPLE (change or remove it)");
    expect(t).toContain('  Where = "/var/tmp/bacula-restores"\n');
    const notes = planSetup(
      withJobs('[bacula]\npool = "usbchanger1-pool"', facts(["vm-fd"])),
    ).notes;
    expect(notes.join("\n")).toContain(
      '(it labels every blank volume into Pool "usbchanger1-pool", set by [bacula] pool)',
    );
    expect(notes.at(-1)).toBe(
      'a first backup and restore, in bconsole: run job="usbchanger1-example" yes; wait; restore restorejob="usbchanger1-restore" fileset="usbchanger1-example" select current all done yes; wait (files land below /var/tmp/bacula-restores)',
    );
  });

  test("a pool the Director defines already is not defined twice (the Director would refuse to start)", () => {
    const t = text(
      withJobs(
        '[bacula]\npool = "File"',
        facts(["vm-fd"], ["File", "Scratch"]),
      ),
    );
    expect(t).not.toContain("Pool {");
    expect(t).toContain(
      '# Pool "File" is defined in /etc/bacula/bacula-dir.conf already',
    );
    expect(t).toContain('  Pool = "File"\n');
  });

  test("without a single Client to back up, the example is written commented out, saying why", () => {
    const t = text(withJobs('[bacula]\npool = "p"', facts(["a-fd", "b-fd"])));
    expect(t).toContain(
      "# Commented out: /etc/bacula/bacula-dir.conf has several Clients (a-fd, b-fd). Set Client = the File Daemon to back up, and uncomment.\n",
    );
    expect(t).not.toMatch(/^Job \{/m);
    expect(t).toContain('#   Client = "HOST-fd"\n');
    expect(t).not.toContain('Client = "CHANGE-ME"');
    expect(t).toMatch(/^Pool \{/m);
    // Debian names the host's own File Daemon HOST-fd: that one is picked among several.
    expect(exampleClient(facts(["a-fd", "vm-fd"]), "vm.example.org")).toBe(
      "vm-fd",
    );
    expect(exampleClient(undefined, "vm")).toBeUndefined();
  });

  test("without [bacula] pool: no Pool, no example, and the notes say refresh labels nothing", () => {
    const o = withJobs("", facts(["vm-fd"]));
    const t = text(o);
    expect(t).not.toMatch(/^(Pool|Job|FileSet) \{/m);
    expect(t).toContain("# No Pool: [bacula] pool is not set in");
    expect(planSetup(o).notes.join("\n")).toContain(
      '(it labels nothing: [bacula] pool is not set in /etc/magchanger/usbchanger1.toml; set it, e.g. pool = "usbchanger1-pool", and rerun setup --write to get that Pool)',
    );
  });
});

describe("the Storage's Address and Password filled in by the admin", () => {
  test("are kept by the next --write, not shown by the dry run, and drop the note asking for them", () => {
    const o: GenerateOptions = {
      ...options(),
      filled: { address: "localhost", password: "s3cret" },
    };
    const plan = planSetup(o);
    const piece = plan.pieces.find(
      (p) => p.path === "/etc/bacula/magchanger-usbchanger1-dir.conf",
    );
    if (piece?.kind !== "file") throw new Error("no Director stanza");
    expect(piece.content).toContain('  Address = "localhost"\n');
    expect(piece.content).toContain('  Password = "s3cret"\n');
    expect(piece.shown).toContain('  Password = "(the one filled in, kept)"\n');
    expect(piece.shown).not.toContain("s3cret");
    expect(plan.notes.join("\n")).not.toContain("fill in the CHANGE-ME");
  });
});
