// vchanger's options and extension commands, declared apart from form.ts so that extensions.ts,
// which form.ts loads only when an extension is asked for, can name their types without
// importing form.ts.
import type { Parsed } from "../cli-parse.ts";

export const EXTENSIONS = [
  "listmags",
  "createvols",
  "refresh",
  "initmag",
] as const;
export type Extension = (typeof EXTENSIONS)[number];

export const OPTIONS = {
  user: { type: "string", short: "u", description: "run as USER" },
  group: { type: "string", short: "g", description: "run as GROUP" },
  label: { type: "string", short: "l", description: "CREATEVOLS label" },
  pool: { type: "string", description: "CREATEVOLS pool" },
  magnum: { type: "string", short: "m", description: "INITMAG number" },
  force: { type: "boolean", description: "REFRESH even if unchanged" },
} as const;

export type VchangerParsed = Parsed<typeof OPTIONS>;
