// What each [notify] key allows, for config error messages: kept apart from the zod schema
// (notify-schema.ts) so that schema-messages.ts, which the protocol path loads, loads no zod.
export const NOTIFY_ALLOWED: Record<string, string> = {
  notify: "a [notify] table",
  "notify.command":
    'an argv list in brackets, program path first (e.g. ["/usr/bin/mail", "-s", "magchanger", "root"])',
  "notify.command[]": "a string in quotes",
  "notify.timeout": "seconds, more than 0 and at most 3600",
  "notify.nearly_full_percent":
    "a whole number 1..100 (the percentage of a magazine in use that raises magazine-nearly-full)",
};
