// `magchanger config import FILE`: print a vchanger.conf as the equivalent magchanger TOML.
import { importConfigFile } from "../config/import.ts";
import { defineCommand, defineGroup } from "./cli.ts";
import { ui } from "./console.ts";
import { writeText } from "../system/fd-write.ts";

export interface ImportOptions {
  /** The vchanger.conf; "-" is stdin. */
  file: string;
}

export function runImport(opts: ImportOptions): void {
  const result = importConfigFile(opts.file === "-" ? "/dev/stdin" : opts.file);
  for (const note of result.notes) ui().info(note);
  writeText(1, result.toml);
}

const importCommand = defineCommand({
  name: "config import",
  summary:
    "Print FILE, a vchanger.conf in vchanger 0.8 or 1.0 syntax, as the equivalent magchanger TOML.",
  options: {},
  positionals: [
    { name: "FILE", description: 'the vchanger.conf to read ("-": stdin)' },
  ],
  description: [
    "Each value is commented with the vchanger line it came from. Notes on keys that were mapped, defaulted or kept in [legacy] go to stderr. Nothing is written:",
    "  magchanger config import /etc/vchanger/usbchanger1.conf \\\n    > /etc/magchanger/usbchanger1.toml",
    "Every command also reads a vchanger.conf directly, so importing is optional: it is the way to move to TOML for good. A file that parses as TOML with a `name` key, or ends in .toml, is magchanger TOML; any other file is read as vchanger syntax, and errors say which was assumed.",
  ],
  exitStatus: [
    [0, "the TOML was printed"],
    [1, "internal error (the TOML did not read back as the same config)"],
    [2, "usage (no FILE, or FILE is already magchanger TOML)"],
    [
      3,
      "FILE cannot be read or is not a valid vchanger.conf (one line on stderr naming the line and the fix)",
    ],
  ],
  run: ({ positionals: [file] }) => runImport({ file: file as string }),
});

export const command = defineGroup({
  name: "config",
  summary: "Convert a vchanger.conf to magchanger TOML.",
  subcommands: { import: importCommand },
  exitStatus: importCommand.exitStatus,
});
