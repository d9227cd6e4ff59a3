// Issue 19, item 5: the notifier gets the event refresh validated, never the file opened again by
// path. The run-as user owns WORK_DIR/events and can rename other bytes (or a FIFO) over an event
// at any moment; refresh, started as root, delivers as that user. Here the attacker queues an
// event whose text carries C1 and bidi controls, and the notifier itself (running as the
// run-as user, as the attacker's code would) renames other bytes over the event file while it
// runs. What the notifier read must be the validated event, escaped, from a pipe or an anonymous
// memory file (never a file of the events dir), and what sent/ keeps must be what was delivered.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { rootCases } from "../helpers/root-case.ts";
import { runBinary, tool } from "../helpers/run.ts";

const SUITE = "the notifier gets the validated event, not the file again";

describe.skipIf(skipUnless(["root", "tool:useradd", "tool:setpriv"], SUITE))(
  SUITE,
  () => {
    const cases = rootCases("notify-validated");
    beforeAll(() => cases.start());
    afterAll(() => cases.stop());

    test("stdin is a pipe holding the validated, escaped event; sent/ keeps it; a swap of the file changes neither", async () => {
      const c = cases.newCase();
      const work = cases.attackerDir(join(c.dir, "work"));
      const logs = cases.attackerDir(join(c.dir, "logs"));
      const seen = cases.attackerDir(join(c.dir, "seen"));
      const bay = join(c.dir, "bay");
      tool(["mkdir", "--", bay]);
      const bconsole = join(c.dir, "bconsole");
      writeFileSync(bconsole, "#!/bin/sh\ncat > /dev/null\nexit 0\n");
      chmodSync(bconsole, 0o755);
      // What the attacker's code would do from inside the delivery: note what stdin is, read
      // it, then put other bytes where the event was.
      const notifier = join(c.dir, "notifier.sh");
      writeFileSync(
        notifier,
        `#!/bin/sh
readlink /proc/self/fd/0 > ${seen}/stdin-is
cat > ${seen}/stdin
printf '%s\\n' '{"kind":"refresh-failed","error":"SWAPPED","at":"2026-01-01T00:00:00.000Z"}' > ${work}/events/swap
mv ${work}/events/swap ${work}/events/$MAGCHANGER_EVENT_ID.json
`,
      );
      chmodSync(notifier, 0o755);
      const conf = join(c.dir, "nv.toml");
      writeFileSync(
        conf,
        `name = "nv"\nwork_dir = "${work}"\nlog_file = "${logs}/nv.log"\n${cases.runAsLines()}` +
          `[[magazine]]\npath = "${bay}"\nallow_unmounted = true\n` +
          `[bacula]\nbconsole = "${bconsole}"\ntimeout = 20\n` +
          `[notify]\ncommand = ["${notifier}"]\ntimeout = 20\n`,
        { mode: 0o644 },
      );
      expect(
        (
          await runBinary([
            "magazine",
            "init",
            "-c",
            conf,
            "1",
            "--volumes",
            "1",
          ])
        ).exitCode,
      ).toBe(0);
      const id = "000001780000000-1-0000000001";
      const event = {
        kind: "refresh-failed",
        error: "bconsole said \u009b2J\u202eforged",
        at: "2026-01-01T00:00:00.000Z",
      };
      const planted = join(seen, "event");
      writeFileSync(planted, `${JSON.stringify(event)}\n`);
      cases.attacker().run(["mkdir", "-p", "--", join(work, "events")]);
      cases
        .attacker()
        .run(["cp", "--", planted, join(work, "events", `${id}.json`)]);

      const r = await runBinary(["refresh", "-c", conf]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("notified: 1 event(s) delivered to [notify]");

      // A pipe, or the anonymous memory file Bun hands a child for a buffer: no path anyone
      // can rename anything over.
      expect(readFileSync(join(seen, "stdin-is"), "utf8")).toMatch(
        /^(?:pipe:\[\d+\]|\/memfd:\S+ \(deleted\))\n$/,
      );
      const stdin = readFileSync(join(seen, "stdin"), "utf8");
      expect(stdin).toBe(
        '{"kind":"refresh-failed","error":"bconsole said \\u009b2J\\u202eforged","at":"2026-01-01T00:00:00.000Z"}\n',
      );
      expect(JSON.parse(stdin)).toEqual(event);
      const sent = join(work, "events", "sent");
      expect(readdirSync(sent)).toContain(`${id}.json`);
      expect(readFileSync(join(sent, `${id}.json`), "utf8")).toBe(stdin);
    });
  },
);
