// Fault suite, caches: listing.cache and config.cache.json damaged in place (cut short, bytes
// flipped, lines moved, fields of the wrong shape or value). A cache is only a shortcut: a
// damaged one is never served, so every answer equals the pristine full scan's, exit 0 (or the
// config file's own answer), nothing on stderr, in bounded time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { lookupGroup, lookupUser } from "../../src/system/identity.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { TestChanger } from "../helpers/changer.ts";
import { binaryForUsers } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import {
  CASE_TIMEOUT_MS,
  caseCount,
  type Fixture,
  faultRandom,
  makeFixture,
} from "./harness.ts";

type Pick = (n: number) => number;
type Damage = (text: string, pick: Pick) => [string, string];

const HOSTILE: unknown[] = [null, 100000, -1, 0, "x", [], {}, true, 1e308];

/** Byte-level damage any file suffers, and a few that keep it well-formed but wrong. */
const TEXT_DAMAGES: Record<string, Damage> = {
  "truncate anywhere": (t, pick) => {
    const at = pick(t.length);
    return [t.slice(0, at), `at ${at}`];
  },
  "flip a byte": (t, pick) => {
    const at = pick(t.length);
    const c = String.fromCharCode(t.charCodeAt(at) ^ (1 << pick(8)));
    return [`${t.slice(0, at)}${c}${t.slice(at + 1)}`, `at ${at}`];
  },
  "a Latin-1 byte": (t, pick) => {
    const at = pick(t.length + 1);
    return [`${t.slice(0, at)}\u00e9${t.slice(at)}`, `at ${at}`];
  },
  "two lines swapped": (t, pick) => {
    const lines = t.split("\n");
    const a = pick(lines.length);
    const b = pick(lines.length);
    [lines[a], lines[b]] = [lines[b] ?? "", lines[a] ?? ""];
    return [lines.join("\n"), `${a + 1}<->${b + 1}`];
  },
  "a line duplicated": (t, pick) => {
    const lines = t.split("\n");
    const at = pick(lines.length);
    lines.splice(at, 0, lines[at] ?? "");
    return [lines.join("\n"), `line ${at + 1}`];
  },
  "CR line ends": (t) => [t.replaceAll("\n", "\r\n"), ""],
  "a digit changed": (t, pick) => {
    const digits = [...t.matchAll(/\d/g)].map((m) => m.index ?? 0);
    const at = digits[pick(digits.length)] ?? 0;
    const d = String((Number(t[at]) + 1 + pick(8)) % 10);
    return [`${t.slice(0, at)}${d}${t.slice(at + 1)}`, `at ${at}`];
  },
};

/** A JSON value at `path` (keys and indexes) set to `value`; returns the path it really set. */
function setAt(root: unknown, path: (string | number)[], value: unknown) {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = node?.[key];
    if (typeof next !== "object" || next === null) return;
    node = next as Record<string | number, unknown>;
  }
  if (typeof node === "object" && node !== null)
    node[path[path.length - 1] as string | number] = value;
}

function jsonDamage(paths: (string | number)[][]): Damage {
  return (t, pick) => {
    const newline = t.indexOf("\n");
    const head = newline < 0 ? t : t.slice(0, newline);
    const rest = newline < 0 ? "" : t.slice(newline);
    const value = JSON.parse(head);
    const path = paths[pick(paths.length)] as (string | number)[];
    const to = HOSTILE[pick(HOSTILE.length)];
    setAt(value, path, to);
    return [
      `${JSON.stringify(value)}${rest}`,
      `${path.join(".")}=${JSON.stringify(to)}`,
    ];
  };
}

const run = (argv: string[], asNobody = false) =>
  Bun.spawn(
    asNobody
      ? [
          "setpriv",
          "--reuid=nobody",
          "--regid=nogroup",
          "--clear-groups",
          binaryForUsers(),
          ...argv,
        ]
      : [binaryForUsers(), ...argv],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: CASE_TIMEOUT_MS,
      killSignal: "SIGKILL",
    },
  );

async function answer(argv: string[], asNobody = false) {
  const child = run(argv, asNobody);
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, out, err, signal: child.signalCode ?? null };
}

type Answer = Awaited<ReturnType<typeof answer>>;

/** One class: damage `file` in place, run each command, compare with the pristine answers. */
async function campaign(
  label: string,
  file: string,
  reset: () => void,
  damages: Record<string, Damage>,
  commands: { name: string; argv: string[]; want: Answer }[],
  asNobody: boolean,
  cases: number,
): Promise<void> {
  const pick = faultRandom();
  const names = Object.keys(damages);
  for (let i = 0; i < cases; i++) {
    reset();
    const damage = names[pick(names.length)] as string;
    const [damaged, detail] = (damages[damage] as Damage)(
      readFileSync(file, "latin1"),
      pick,
    );
    writeFileSync(file, Buffer.from(damaged, "latin1"));
    const command = commands[
      pick(commands.length)
    ] as (typeof commands)[number];
    const what = `case ${i}: ${label} ${damage} ${detail} | ${command.name}`;
    expect({ what, ...(await answer(command.argv, asNobody)) }).toEqual({
      what,
      ...command.want,
    });
  }
  console.info(`fault suite (${label}): ${cases} cases`);
}

describe("fault suite: damaged listing.cache", () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await makeFixture("fca");
    const { changer } = fixture;
    const hour = Date.now() / 1000 - 3600;
    utimesSync(join(changer.dir, "bay1"), hour, hour);
    // Stored by a full scan now that the bay is older than the racy window; that is pristine.
    expect((await changer.sd("list", 0, 0)).exitCode).toBe(0);
    expect(
      readFileSync(join(changer.workDir, "listing.cache"), "latin1"),
    ).toContain("\n");
    rmSync(fixture.pristine, { recursive: true, force: true });
    cpSync(changer.workDir, fixture.pristine, {
      recursive: true,
      verbatimSymlinks: true,
    });
  });
  afterAll(() => {
    if (fixture) removeTempDir(fixture.changer.dir);
  });

  test(
    "a damaged cache is never served: list, listall and slots equal the full scan",
    async () => {
      const { changer } = fixture;
      const file = join(changer.workDir, "listing.cache");
      const commands = [];
      for (const name of ["list", "listall", "slots"]) {
        const argv = [
          "changer",
          changer.conf,
          name,
          "0",
          changer.driveLink(0),
          "0",
        ];
        rmSync(file, { force: true });
        commands.push({ name, argv, want: await answer(argv) }); // a full scan
      }
      expect(commands[0]?.want.out).toBe(
        [...fixture.slots].map(([s, b]) => `${s}:${b}\n`).join(""),
      );
      const header = (key: string) => [key];
      const damages = {
        ...TEXT_DAMAGES,
        "a header field": jsonDamage(
          [
            "version",
            "config",
            "registry",
            "bays",
            "slots",
            "listLength",
            "bodyLength",
            "crc",
          ].map(header),
        ),
        "a bay's stamp": jsonDamage([
          ["bays", 0],
          ["bays", 0, "identity"],
          ["bays", 0, "identities"],
          ["bays", 0, "identities", 0, "seen"],
        ]),
        "the header only": (t: string) =>
          [t.slice(0, t.indexOf("\n") + 1), ""] as [string, string],
        "the header null": (t: string) =>
          [`null${t.slice(t.indexOf("\n"))}`, ""] as [string, string],
      };
      await campaign(
        "listing.cache",
        file,
        fixture.reset,
        damages,
        commands,
        false,
        caseCount(40),
      );
    },
    caseCount(40) * CASE_TIMEOUT_MS,
  );
});

const SUITE = "fault suite: damaged config.cache.json";
describe.skipIf(
  skipUnless(
    ["root", "user:nobody", "group:nogroup", "tool:setpriv", "exec-as-user"],
    SUITE,
  ),
)(SUITE, () => {
  let dir = "";
  let changer: TestChanger;
  let pristine = "";
  beforeAll(async () => {
    dir = makeTempDir("fault-ccache");
    const bay = join(dir, "bay1");
    mkdirSync(bay);
    chownSync(
      bay,
      lookupUser("nobody")?.uid ?? 0,
      lookupGroup("nogroup")?.gid ?? 0,
    );
    changer = new TestChanger(dir, {
      name: "fcc",
      user: "nobody",
      group: "nogroup",
      bays: [{ path: bay, allowUnmounted: true }],
    });
    await changer.init(1, 3);
    const stored = await answer(["changer", changer.conf, "list"], true);
    expect(stored).toMatchObject({ code: 0, err: "" });
    pristine = readFileSync(
      join(changer.workDir, "config.cache.json"),
      "latin1",
    );
  });
  afterAll(() => {
    if (dir) removeTempDir(dir);
  });

  test(
    "a damaged validation is never used: every answer is the config file's",
    async () => {
      const file = join(changer.workDir, "config.cache.json");
      const drive = changer.driveLink(0);
      const want = (out: string, code = 0, err = "") => ({
        code,
        out,
        err,
        signal: null,
      });
      const commands = [
        {
          name: "loaded",
          argv: ["changer", changer.conf, "loaded", "0", drive, "0"],
          want: want("0\n"),
        },
        {
          name: "list",
          argv: ["changer", changer.conf, "list"],
          want: want("1:fcc_0001_0001\n2:fcc_0001_0002\n3:fcc_0001_0003\n"),
        },
        {
          name: "unload of drive 5",
          argv: ["changer", changer.conf, "unload", "0", "x", "5"],
          want: want(
            "",
            1,
            "magchanger: drive 5 is out of range: changer fcc has drives 0..1 (config key drives)\n",
          ),
        },
      ];
      const damages = {
        ...TEXT_DAMAGES,
        "a field": jsonDamage([
          ["notes"],
          ["notes", 0],
          ["syntax"],
          ["check"],
          ["config"],
          ["config", "drives"],
          ["config", "magazine"],
          ["config", "magazine", 0],
          ["config", "magazine", 0, "path"],
          ["config", "name"],
          ["config", "lock_timeout"],
          ["config", "log_level"],
        ]),
      };
      // Written back in place, so owner and mode stay the user's own (a cache it may use).
      const reset = () => writeFileSync(file, Buffer.from(pristine, "latin1"));
      await campaign(
        "config.cache.json",
        file,
        reset,
        damages,
        commands,
        true,
        caseCount(40),
      );
    },
    caseCount(40) * CASE_TIMEOUT_MS,
  );
});
