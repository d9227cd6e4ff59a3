// [notify]: the command told about events (events/deliver.ts). An argv list, never a shell
// string: the event comes as JSON on stdin, its one-line summary in MAGCHANGER_EVENT_SUMMARY.
import * as z from "zod/mini";

export function buildNotifySchema() {
  return z.strictObject({
    command: z._default(
      z.array(z.string().check(z.refine((v) => !v.includes("\0")))).check(
        z.refine((argv) => argv.length === 0 || argv[0]!.startsWith("/"), {
          error:
            'notify.command must start with an absolute program path, e.g. ["/usr/bin/mail", "-s", "magchanger", "root"]',
        }),
      ),
      [],
    ),
    timeout: z._default(
      z
        .number()
        .check(
          z.positive({ error: "notify.timeout must be seconds > 0" }),
          z.maximum(3600),
        ),
      60,
    ),
    nearly_full_percent: z._default(
      z.int().check(z.minimum(1), z.maximum(100)),
      90,
    ),
  });
}

export const NOTIFY_ALLOWED: Record<string, string> = {
  notify: "a [notify] table",
  "notify.command":
    'an argv list in brackets, program path first (e.g. ["/usr/bin/mail", "-s", "magchanger", "root"])',
  "notify.command[]": "a string in quotes",
  "notify.timeout": "seconds, more than 0 and at most 3600",
  "notify.nearly_full_percent":
    "a whole number 1..100 (the percentage of a magazine in use that raises magazine-nearly-full)",
};
