// The man pages and the bash completion build.ts rendered from the command declarations and the
// config schema (commands/manual/docs.ts) and baked into the binary: `setup --write` installs them
// from here, so the one file copied to /usr/local/bin is all an installation needs.
declare const MAGCHANGER_DOCS: Record<string, string> | undefined;

/** Install path -> content; undefined when running from source (no build baked them in). */
export function installedDocs(): Record<string, string> | undefined {
  return typeof MAGCHANGER_DOCS === "object" ? MAGCHANGER_DOCS : undefined;
}
