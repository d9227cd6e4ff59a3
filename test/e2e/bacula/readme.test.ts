// Issue 11 item 4: README.md's "From an empty host to a first backup", run command by command as
// written (extracted from README.md at run time, so the two cannot drift) on a private copy of
// this host (private-host.ts: /etc copied, /var, /usr/local, /mnt, /run and /dev overlaid, its own
// loopback), against Debian's own Bacula configs and daemons, up to a restore verified by sha256.
// What a test machine cannot run literally is replaced, each with its reason (readme-replaced.ts),
// and the test fails if the README stops containing any of those lines.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../../helpers/capabilities.ts";
import { REPO } from "../../helpers/run.ts";
import { diffManifests, hashTree } from "./files.ts";
import { CHANGER_SCENARIO } from "./magchanger.ts";
import { PrivateHost } from "./private-host.ts";
import { describeFailure, type ToolResult } from "./processes.ts";
import { type ReadmeCommand, sectionCommands } from "./readme-blocks.ts";
import { type Ctx, REPLACED, type Replacement } from "./readme-replaced.ts";
import { Scratch } from "./scratch.ts";

const SUITE = "the README's first backup, as written, against Debian's Bacula";
const SECTION = "From an empty host to a first backup";
const RESTORED = "/var/tmp/bacula-restores/usr/sbin";

describe.skipIf(
  skipUnless(
    [
      ...CHANGER_SCENARIO,
      "tool:unshare",
      "tool:nsenter",
      "tool:cryptsetup",
      "tool:setpriv",
      "tool:ip",
      "tool:apt-cache",
    ],
    SUITE,
  ),
)(SUITE, () => {
  let ctx: Ctx;
  const commands = sectionCommands(
    readFileSync(join(REPO, "README.md"), "utf8"),
    SECTION,
  );
  const used = new Set<Replacement>();

  beforeAll(async () => {
    const scratch = Scratch.create("readme");
    const image = async (name: string) => {
      const path = join(scratch.root, name);
      writeFileSync(path, "");
      truncateSync(path, 128 * 1024 * 1024);
      return scratch.attachLoop(path);
    };
    // Loop devices before the namespace: its /dev overlay sees the nodes that exist then.
    const usb = await image("usb.img");
    const opened = await image("opened.img");
    ctx = { host: await PrivateHost.start(scratch), scratch, usb, opened };
  }, 120_000);

  afterAll(async () => {
    await ctx?.host
      .run(["umount", "/mnt/usbchanger1/magazine"])
      .catch(() => undefined);
    await ctx?.scratch.cleanup();
  });

  test("every command of the section runs (or is replaced, saying why), ending in a restore equal by sha256", async () => {
    const manifest = hashTree("/usr/sbin");
    for (const c of commands) {
      const replacement = REPLACED.find((r) => r.line.test(c.text));
      if (replacement) {
        used.add(replacement);
        await replacement.run(ctx, c.text);
        continue;
      }
      if (c.comment) continue;
      const r = await ctx.host.run(
        ["bash", "-e", "-o", "pipefail", "-c", c.text],
        { cwd: REPO, timeoutMs: 600_000 },
      );
      expect(r.exitCode, `README.md:${c.line}: ${describeFailure(r)}`).toBe(0);
      logStep(c, r);
    }
    expect(
      REPLACED.filter((r) => !used.has(r)).map((r) => r.line.source),
    ).toEqual([]);
    // The README's own --write, once more after the whole sequence (the CHANGE-ME edit included).
    const write = commands.find((c) =>
      /^magchanger setup .*--write/.test(c.text),
    );
    const again = await ctx.host.must(["bash", "-c", write?.text ?? "false"]);
    expect(again.stdout).toContain(
      "Everything was already in place; nothing changed.\n",
    );
    expect(diffManifests(manifest, hashTree(ctx.host.upper(RESTORED)))).toEqual(
      [],
    );
    console.info(
      `readme: restored ${manifest.size} files of /usr/sbin, equal by sha256`,
    );
  }, 900_000);
});

function logStep(c: ReadmeCommand, r: ToolResult): void {
  console.info(
    `readme: README.md:${c.line} ok in ${r.ms} ms: ${c.text.split("\n")[0]}`,
  );
  if (process.env.MAGCHANGER_README_OUTPUT) console.info(r.stdout + r.stderr);
}
