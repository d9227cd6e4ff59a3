import { basename } from "node:path";

/** Names under which the binary acts as an autofs program map (see README, autofs). */
export function isAutomapName(argv0: string): boolean {
  const name = basename(argv0);
  return name.startsWith("auto.") || name === "magchanger-automap";
}
