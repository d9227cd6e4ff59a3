// How unlock finds its config when udev runs it without -c: the file in the config dir whose
// luks.mapper is NAME; and why a root helper refuses configs that others could write.
import { skipUnless } from "../helpers/capabilities.ts";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../src/errors.ts";
import {
  configDir,
  findConfigForMapper,
  loadTrustedConfig,
} from "../../src/config/discover.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { createFakeTools, writeConfig } from "../unlock/fakes.ts";

const SUITE = "config discovery for unlock";

describe.skipIf(skipUnless(["root"], SUITE))(SUITE, () => {
  let dir: string;
  let confDir: string;
  const add = (
    file: string,
    name: string,
    mapper: string,
    bays: { key: string; mapper: string }[] = [],
  ) => {
    const fakes = createFakeTools(join(dir, `tools-${name}`));
    return writeConfig(join(confDir, file), {
      dir: join(dir, name),
      name,
      mapper,
      keyFile: "/etc/magchanger/luks.key",
      tools: fakes,
      bays,
    });
  };

  beforeEach(() => {
    dir = makeTempDir("discover");
    confDir = join(dir, "etc");
    mkdirSync(confDir);
  });
  afterEach(() => removeTempDir(dir));

  test("MAGCHANGER_CONFIG_DIR overrides /etc/magchanger", () => {
    expect(configDir({})).toBe("/etc/magchanger");
    expect(configDir({ MAGCHANGER_CONFIG_DIR: confDir })).toBe(confDir);
  });

  test("the config whose luks.mapper is NAME is chosen among several", () => {
    add("usb1.toml", "usb1", "bacula");
    add("usb2.toml", "usb2", "offsite");
    expect(findConfigForMapper("offsite", confDir).name).toBe("usb2");
    expect(findConfigForMapper("bacula", confDir).name).toBe("usb1");
  });

  test("without NAME the only config is used; with several it asks for NAME or -c", () => {
    add("usb1.toml", "usb1", "bacula");
    expect(findConfigForMapper(undefined, confDir).name).toBe("usb1");
    add("usb2.toml", "usb2", "offsite");
    expect(() => findConfigForMapper(undefined, confDir)).toThrow(
      `2 changer configs in ${confDir}: name the mapper (unlock DEVICE NAME) or pass -c CONF`,
    );
  });

  test("no match, an empty dir and two configs with the same mapper are config errors", () => {
    expect(() => findConfigForMapper("bacula", confDir)).toThrow(ConfigError);
    add("usb1.toml", "usb1", "bacula");
    expect(() => findConfigForMapper("nope", confDir)).toThrow(
      `no changer config in ${confDir} has luks.mapper = "nope"; set it in the changer's .toml or pass -c CONF`,
    );
    add("usb2.toml", "usb2", "bacula");
    expect(() => findConfigForMapper("bacula", confDir)).toThrow(
      `several configs in ${confDir} use the mapping name "bacula" (${confDir}/usb1.toml, ${confDir}/usb2.toml); give each changer its own luks.mapper and bay mappers, or pass -c CONF`,
    );
  });

  // The kernel's dm UUID names the mapping, not the changer: one name in two changers would let
  // each take the other's disk for its own.
  test("a bay's mapper names its changer too, and a name two changers use is refused", () => {
    add("usb1.toml", "usb1", "bacula", [
      { key: "magazine2", mapper: "bacula2" },
    ]);
    expect(findConfigForMapper("bacula2", confDir).name).toBe("usb1");
    add("usb2.toml", "usb2", "bacula2");
    expect(() => findConfigForMapper("bacula2", confDir)).toThrow(
      `several configs in ${confDir} use the mapping name "bacula2" (${confDir}/usb1.toml, ${confDir}/usb2.toml); give each changer its own luks.mapper and bay mappers, or pass -c CONF`,
    );
  });

  test("a broken config does not hide a good one, and is named when nothing matches", () => {
    add("usb1.toml", "usb1", "bacula");
    writeFileSync(join(confDir, "broken.toml"), "name = = 1\n");
    expect(findConfigForMapper("bacula", confDir).name).toBe("usb1");
    expect(() => findConfigForMapper("other", confDir)).toThrow(
      `(unusable: config ${confDir}/broken.toml line 1:`,
    );
  });

  test("as root, a config owned by another user or writable by group/other is refused", () => {
    const config = add("usb1.toml", "usb1", "bacula");
    chmodSync(config.source, 0o664);
    expect(() => loadTrustedConfig(config.source)).toThrow(
      `refusing config ${config.source}: group/other may write it (mode 664), and it names programs root runs; run: chmod go-w ${config.source}`,
    );
    chmodSync(config.source, 0o644);
    chownSync(config.source, 65534, 0);
    expect(() => loadTrustedConfig(config.source)).toThrow(
      `refusing config ${config.source}: owned by uid 65534, not root`,
    );
    expect(() => findConfigForMapper("bacula", confDir)).toThrow(ConfigError);
  });
});
