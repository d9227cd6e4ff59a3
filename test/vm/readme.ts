// README.md's "From an empty host to a first backup", line by line as written, in the guest: a
// real kernel with udev, dm-crypt, autofs and systemd, the disk a hot-plugged USB disk. Only what
// the guest cannot do as written is replaced (each with its reason, matched by the line's text so
// a README change that drops one fails here): apt-get (the image was built from those packages),
// the build (the suite's binary is on the payload disk) and $EDITOR. /dev/sdX, the README's name
// for "your USB disk", is the node the plugged disk got.
import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../helpers/run.ts";
import {
  type ReadmeCommand,
  sectionCommands,
} from "../e2e/bacula/readme-blocks.ts";
import { PACKAGES } from "./image.ts";
import type { Guest } from "./guest.ts";
import { GUEST_CHECKOUT } from "./vm.ts";

export const SECTION = "From an empty host to a first backup";

interface Replacement {
  line: RegExp;
  why: string;
  run(guest: Guest, command: string): Promise<void>;
}

export const REPLACED: Replacement[] = [
  {
    line: /^apt-get install -y /,
    why: "the guest has no network: its image was built from Debian's packages; every package named is installed there, but nodejs and npm, which build the binary on the host",
    async run(guest, command) {
      const named = command.split(/\s+/).slice(3);
      const onHost = new Set(["nodejs", "npm"]);
      for (const p of named.filter((p) => !onHost.has(p)))
        expect(PACKAGES.includes(p) || (await installed(guest, p)), p).toBe(
          true,
        );
    },
  },
  {
    line: /^npm install && npm run build/,
    why: "built on the host by the suite: dist/magchanger reaches the guest on the payload disk",
    async run(guest) {
      await guest.vm.must(["test", "-x", `${GUEST_CHECKOUT}/dist/magchanger`]);
    },
  },
  {
    line: /^\$EDITOR \/etc\/bacula\/magchanger-usbchanger1-dir\.conf/,
    why: "no editor: the edit its comment names, Address = localhost and the Password of the SD's Director resource",
    async run(guest) {
      await guest.vm.mustSh(
        `pw=$(awk '/^Director *\\{/{d=1} d && /Password/{sub(/.*Password *= *"/, ""); sub(/".*/, ""); print; exit}' /etc/bacula/bacula-sd.conf)
test -n "$pw"
sed -i "s/Address = \\"CHANGE-ME\\"/Address = \\"localhost\\"/; s/Password = \\"CHANGE-ME\\"/Password = \\"$pw\\"/" /etc/bacula/magchanger-usbchanger1-dir.conf
! grep -q 'CHANGE-ME"' /etc/bacula/magchanger-usbchanger1-dir.conf`,
      );
    },
  },
];

async function installed(guest: Guest, pkg: string): Promise<boolean> {
  const r = await guest.vm.exec(["dpkg-query", "-W", "-f", "${Status}", pkg]);
  return r.stdout.includes("install ok installed");
}

export function readmeCommands(): ReadmeCommand[] {
  return sectionCommands(
    readFileSync(join(REPO, "README.md"), "utf8"),
    SECTION,
  );
}

export interface StepTime {
  line: number;
  text: string;
  ms: number;
}

/**
 * Runs every command of the section in the guest (bash -e -o pipefail, cwd: the checkout), the
 * USB disk standing as /dev/sdX; returns each line's time. Fails at the first line that fails.
 */
export async function runReadme(
  guest: Guest,
  disk: string,
  options: {
    onLine?: (c: ReadmeCommand, out: string) => Promise<void>;
    /** Stop before the first command this accepts (the rest of the section is not run). */
    stopBefore?: (c: ReadmeCommand) => boolean;
  } = {},
): Promise<StepTime[]> {
  const used = new Set<Replacement>();
  const times: StepTime[] = [];
  let whole = true;
  for (const c of readmeCommands()) {
    if (options.stopBefore?.(c)) {
      whole = false;
      break;
    }
    const replacement = REPLACED.find((r) => r.line.test(c.text));
    const started = Date.now();
    if (replacement) {
      used.add(replacement);
      await replacement.run(guest, c.text);
    } else if (!c.comment) {
      const text = c.text.replaceAll("/dev/sdX", disk);
      const r = await guest.vm.exec(
        [
          "/bin/bash",
          "-e",
          "-o",
          "pipefail",
          "-c",
          `cd ${GUEST_CHECKOUT}\n${text}`,
        ],
        { timeoutMs: 600_000 },
      );
      expect(
        r.exitCode,
        `README.md:${c.line}: ${text}\nstdout: ${r.stdout.slice(-4000)}\nstderr: ${r.stderr.slice(-4000)}`,
      ).toBe(0);
      await options.onLine?.(c, r.stdout);
    } else continue;
    times.push({
      line: c.line,
      text: c.text.split("\n")[0] ?? "",
      ms: Date.now() - started,
    });
  }
  if (whole)
    expect(
      REPLACED.filter((r) => !used.has(r)).map((r) => r.line.source),
    ).toEqual([]);
  return times;
}

/** The README's lines that prepare one disk (partition, LUKS, udev, mkfs), as written. */
export function diskPreparation(): string[] {
  const commands = readmeCommands();
  const from = commands.findIndex(
    (c) => c.comment && c.text.startsWith("# each disk"),
  );
  const to = commands.findIndex((c) =>
    c.text.startsWith("magchanger magazine init"),
  );
  const lines = commands
    .slice(from + 1, to)
    .filter((c) => !c.comment)
    .map((c) => c.text);
  expect(lines.length).toBe(4);
  return lines;
}
