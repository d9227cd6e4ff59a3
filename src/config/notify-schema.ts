// [notify]: the command told about events (events/deliver.ts). An argv list, never a shell
// string: the event comes as JSON on stdin, its one-line summary in MAGCHANGER_EVENT_SUMMARY
// and in place of {summary} in an argument ({kind}: the event's kind).
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

export { NOTIFY_ALLOWED } from "./notify-messages.ts";
