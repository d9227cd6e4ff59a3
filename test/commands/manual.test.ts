// The man pages (commands/manual/): rendered by man-db without a warning, in Debian's section
// order, holding every option, argument and exit code of the declaration --help is made from,
// NAME lines whatis can index, and magchanger.toml(5) holding every key of the schema with its
// default and what it allows; a key or command without its docs stops the generator.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  type AnyCommand,
  type CommandDef,
  isGroup,
} from "../../src/commands/cli.ts";
import {
  configKeys,
  configPage,
} from "../../src/commands/manual/config-page.ts";
import { renderDocs } from "../../src/commands/manual/docs.ts";
import { PAGE_EXTRAS } from "../../src/commands/manual/files.ts";
import { commandPage } from "../../src/commands/manual/pages.ts";
import { roffText } from "../../src/commands/manual/roff.ts";
import { CONFIG_KEY_DOCS } from "../../src/config/schema-docs.ts";
import { allowedFor } from "../../src/config/schema-messages.ts";
import { EXIT_MEANINGS } from "../../src/errors.ts";
import { COMMANDS } from "../../src/main.ts";
import { missing, recordSkip, toolPath } from "../helpers/capabilities.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("manual");
afterAll(() => removeTempDir(dir));
const docs = await renderDocs(COMMANDS, "9.9.9");
const pages = Object.entries(docs).filter(([p]) => /\.\d$/.test(p));
for (const [path, content] of Object.entries(docs)) {
  mkdirSync(join(dir, dirname(path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

/** The page as `man` shows it at 80 columns, and what groff warned. */
function render(path: string): {
  text: string;
  warnings: string;
  code: number;
} {
  const result = Bun.spawnSync(
    [toolPath("man") as string, "--warnings", "-l", join(dir, path)],
    {
      env: {
        PATH: "/usr/bin:/bin",
        MANWIDTH: "80",
        LANG: "C.UTF-8",
        MAN_KEEP_FORMATTING: "",
      },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  return {
    text: result.stdout.toString(),
    warnings: result.stderr.toString(),
    code: result.exitCode ?? -1,
  };
}

const declaration = async (name: string): Promise<AnyCommand> =>
  (await (COMMANDS[name] as () => Promise<{ command: AnyCommand }>)()).command;

const manMissing = missing("tool:man", "tool:groff");
if (manMissing) recordSkip("man -l of every page", manMissing);

describe.skipIf(manMissing !== undefined)("every page through man -l", () => {
  test("a page per command, magchanger(8) and magchanger.toml(5)", () => {
    expect(pages.map(([p]) => p.replace(/^.*\//, "")).sort()).toEqual(
      [
        "magchanger.8",
        "magchanger.toml.5",
        ...Object.keys(COMMANDS).map((n) => `magchanger-${n}.8`),
      ].sort(),
    );
  });

  for (const [path] of pages)
    test(`${path.replace(/^.*\//, "")}: renders at 80 columns without a warning`, () => {
      const { text, warnings, code } = render(path);
      expect({ code, warnings }).toEqual({ code: 0, warnings: "" });
      const long = text.split("\n").filter((l) => l.length > 80);
      // Only examples shown as they are may run past the width (a sudoers line, a udev rule).
      for (const line of long) expect(line).toStartWith("           ");
    });

  for (const name of Object.keys(COMMANDS))
    test(`magchanger-${name}(8): Debian's sections in order, every option, argument and exit code`, async () => {
      const { text } = render(`/usr/local/share/man/man8/magchanger-${name}.8`);
      const headings = text.split("\n").filter((l) => /^[A-Z]/.test(l));
      expect(headings.slice(1)).toEqual([
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "EXIT STATUS",
        "FILES",
        "SEE ALSO",
      ]);
      expect(text).toContain(`magchanger-${name} - `);
      const def = await declaration(name);
      const defs: CommandDef[] = isGroup(def)
        ? Object.values(def.subcommands)
        : [def];
      const flat = text.replace(/\s+/g, " ");
      for (const sub of defs) {
        for (const [key, o] of Object.entries(sub.options)) {
          expect(flat).toContain(`--${key}`);
          expect(flat).toContain(
            o.description.replace(/\s+/g, " ").slice(0, 30),
          );
        }
        for (const p of sub.positionals ?? [])
          if (p.description) expect(flat).toContain(p.name);
      }
      const exit = text.slice(
        text.indexOf("\nEXIT STATUS"),
        text.indexOf("\nFILES"),
      );
      for (const entry of def.exitStatus) {
        const [code, meaning] = Array.isArray(entry)
          ? entry
          : [entry, EXIT_MEANINGS[entry] ?? ""];
        expect(exit).toContain(`       ${code} `);
        expect(exit.replace(/\s+/g, " ")).toContain(meaning.slice(0, 25));
      }
    });

  test("magchanger.toml(5): every key of the schema, with what it allows and its default", () => {
    const { text } = render("/usr/local/share/man/man5/magchanger.toml.5");
    const flat = text.replace(/\s+/g, " ");
    const keys = configKeys();
    expect(keys.length).toBeGreaterThan(40);
    for (const k of keys) {
      if (k.kind === "value") {
        expect(text).toMatch(
          new RegExp(`\\n       ${k.path.replace(/^.*\./, "")}\\b`),
        );
        expect(flat).toContain(`Allowed: ${allowedFor(k.path)}.`);
      } else
        expect(text).toContain(
          k.kind === "tables" ? `[[${k.path}]]` : `[${k.path}]`,
        );
    }
    expect(flat).toContain('Default: "/usr/sbin/bconsole".');
    expect(flat).toContain("Default: /var/lib/magchanger/NAME.");
    expect(flat).toContain("Default: [].");
    expect(flat).toContain("Default: 120.");
    expect(flat).toContain("Required when [legacy] is there.");
  });
});

const lexgrogMissing = missing("tool:lexgrog");
if (lexgrogMissing) recordSkip("whatis lines (lexgrog)", lexgrogMissing);
test.skipIf(lexgrogMissing !== undefined)(
  "mandb can index every page: lexgrog reads its NAME line",
  () => {
    for (const [path] of pages) {
      const out = Bun.spawnSync(
        [toolPath("lexgrog") as string, join(dir, path)],
        {
          stdout: "pipe",
        },
      ).stdout.toString();
      const name = path.replace(/^.*\//, "").replace(/\.\d$/, "");
      expect(out).toStartWith(`${join(dir, path)}: "${name} - `);
    }
  },
);

describe("the generator", () => {
  test("a config key without its meaning stops it, naming the key and the table to fill", () => {
    const saved = CONFIG_KEY_DOCS["bacula.pool"] as string;
    delete CONFIG_KEY_DOCS["bacula.pool"];
    try {
      expect(() => configPage("1")).toThrow(
        "config key bacula.pool is not documented: add it to CONFIG_KEY_DOCS in src/config/schema-docs.ts",
      );
    } finally {
      CONFIG_KEY_DOCS["bacula.pool"] = saved;
    }
  });

  test("a command without FILES and SEE ALSO stops it", async () => {
    expect(PAGE_EXTRAS.nosuch).toBeUndefined();
    const def = {
      name: "nosuch",
      summary: "x",
      options: {},
      exitStatus: [0],
      run() {},
    };
    expect(() => commandPage("nosuch", def, "1")).toThrow(
      "no FILES and SEE ALSO for command nosuch: add it to PAGE_EXTRAS in src/commands/manual/files.ts",
    );
  });

  test("roff: a leading dot, backslashes, hyphens and quotes stay what they were", () => {
    expect(roffText(".profile \\n it's `--write`")).toBe(
      "\\&.profile \\en it\\(aqs \\(ga\\-\\-write\\(ga",
    );
  });
});
