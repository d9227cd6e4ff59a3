// The tables of a config file below the top level: [[magazine]], [bacula], [luks], [automap],
// [tools] and [legacy]. Built by buildSchemas (schema.ts) on first use, never at import.
import * as z from "zod/mini";

import {
  AUTOFS_KEY_PATTERN,
  MAPPER_PATTERN,
  NAME_PATTERN,
} from "./schema-patterns.ts";

export { MAPPER_PATTERN, NAME_PATTERN };

export const absolutePath = (what: string) =>
  z.string().check(
    z.refine((value) => value.startsWith("/") && !value.includes("\0"), {
      error: `${what} must be an absolute path (starting with /)`,
    }),
  );

const flag = (what: string) =>
  z.boolean({ error: `${what} must be true or false` });

const pattern = (regex: RegExp, error: string) =>
  z.string().check(z.regex(regex, { error }));

const filesystemUuid = (what: string) =>
  pattern(
    /^[0-9A-Fa-f-]{4,64}$/,
    `${what} must be a filesystem UUID (hex digits and -)`,
  );

const filesystemLabel = (what: string) =>
  pattern(
    /^[^\s/"'`$\\]{1,64}$/,
    `${what} must be 1..64 characters without spaces, quotes or /`,
  );

const bounded = (what: string, min: number, max: number) => {
  const error = `${what} must be ${min}..${max}`;
  return z
    .int({ error })
    .check(z.minimum(min, { error }), z.maximum(max, { error }));
};

export function magazineSchema() {
  return z
    .strictObject({
      path: z.optional(absolutePath("magazine path")),
      uuid: z.optional(filesystemUuid("uuid")),
      label: z.optional(filesystemLabel("label")),
      allow_unmounted: z._default(flag("allow_unmounted"), false),
      // A further autofs bay's own /dev/mapper name (schema-bays.ts checks where it may be).
      mapper: z.optional(
        pattern(
          MAPPER_PATTERN,
          "mapper must be a device-mapper name: 1..64 of [A-Za-z0-9_.+-], starting with a letter or digit",
        ),
      ),
    })
    .check(
      z.refine(
        (m) =>
          [m.path, m.uuid, m.label].filter((v) => v !== undefined).length === 1,
        {
          error: "each [[magazine]] needs exactly one of path, uuid or label",
        },
      ),
    );
}

export function baculaSchema() {
  return z.strictObject({
    bconsole: z._default(absolutePath("bacula.bconsole"), "/usr/sbin/bconsole"),
    config: z._default(
      absolutePath("bacula.config"),
      "/etc/bacula/bconsole.conf",
    ),
    storage: z.optional(
      pattern(NAME_PATTERN, "bacula.storage must be a Bacula resource name"),
    ),
    pool: z.optional(
      pattern(
        /^[A-Za-z0-9_.: -]{1,127}$/,
        "bacula.pool must be a Bacula pool name",
      ),
    ),
    drive: z._default(z.int().check(z.minimum(0), z.maximum(63)), 0),
    timeout: z._default(
      z
        .number()
        .check(z.positive({ error: "bacula.timeout must be seconds > 0" })),
      120,
    ),
  });
}

export function luksSchema() {
  return z.strictObject({
    key_file: z._default(
      absolutePath("luks.key_file"),
      "/etc/magchanger/luks.key",
    ),
    mapper: z._default(
      pattern(
        MAPPER_PATTERN,
        "luks.mapper must be a device-mapper name: 1..64 of [A-Za-z0-9_.+-], starting with a letter or digit",
      ),
      "bacula",
    ),
    allowed_uuids: z._default(
      z.array(
        pattern(
          /^[0-9A-Fa-f-]{8,64}$/,
          "luks.allowed_uuids entries must be LUKS UUIDs",
        ),
      ),
      [],
    ),
  });
}

export function automapSchema() {
  return z.strictObject({
    key: z._default(
      pattern(AUTOFS_KEY_PATTERN, "automap.key must be a simple name"),
      "magazine",
    ),
    fstype: z._default(
      pattern(
        /^[a-z0-9]{1,16}$/,
        "automap.fstype must be a filesystem type such as ext4 or auto",
      ),
      "auto",
    ),
    options: z._default(
      pattern(
        /^[A-Za-z0-9_=,.-]{0,200}$/,
        "automap.options must be a comma-separated mount option list",
      ),
      "rw,nodev,nosuid,noexec,noatime",
    ),
    // What `key` mounts, first found wins: the unlocked LUKS disk, then a filesystem by label/UUID.
    luks: z._default(flag("automap.luks"), true),
    label: z.optional(filesystemLabel("automap.label")),
    uuid: z.optional(filesystemUuid("automap.uuid")),
  });
}

export function toolsSchema() {
  const tool = (name: string, path: string) =>
    z._default(absolutePath(`tools.${name}`), path);
  return z.strictObject({
    blkid: tool("blkid", "/usr/sbin/blkid"),
    cryptsetup: tool("cryptsetup", "/usr/sbin/cryptsetup"),
    dmsetup: tool("dmsetup", "/usr/sbin/dmsetup"),
    umount: tool("umount", "/usr/bin/umount"),
    tune2fs: tool("tune2fs", "/usr/sbin/tune2fs"),
    systemctl: tool("systemctl", "/usr/bin/systemctl"),
  });
}

// Written by `magchanger config import` from a vchanger.conf (or read from one directly): the
// vchanger facts needed to adopt its magazines without renaming a volume or moving a slot.
export function legacySchema() {
  return z.strictObject({
    vchanger: z.enum(["0.8", "1.0"], {
      error: 'legacy.vchanger must be "0.8" or "1.0" (the magazine layout)',
    }),
    slots_per_magazine: z.optional(
      bounded("legacy.slots_per_magazine", 1, 9999),
    ),
    magazine_bays: z.optional(bounded("legacy.magazine_bays", 1, 32)),
    automount_dir: z.optional(absolutePath("legacy.automount_dir")),
    bconsole_disabled: z.optional(flag("legacy.bconsole_disabled")),
  });
}
