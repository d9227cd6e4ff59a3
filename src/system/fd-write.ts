// Every byte magchanger writes to stdout or stderr goes through this file: the one output rule.
// Text for people (listings, reports, warnings, errors, help) is escaped here, by the writer,
// line by line: C0 but the newline, DEL, C1 and the bidi controls become \xNN / \uNNNN
// (text.ts), so a name from a disk or an answer from Bacula can neither drive the terminal nor
// forge a line, whichever caller forgot printable(). JSON is written with those characters as
// \u escapes. Only protocol answers (the changer's lines for the storage daemon, automap's entry
// for autofs) are written as they are: parsers read those bytes, they hold only validated
// barcodes, slots and paths, and `loaded` must not pay a pass over its output.
// test/system/fd-write.test.ts holds the rest of src/ to writing through here.
//
// write(2), synchronously: process.stdout/process.stderr are streams Bun creates on first use,
// and creating one costs a compiled binary ~25 ms of CPU here (a trivial program: 65 ms with
// process.stdout.write, 39 ms with fs.writeSync): more than everything a protocol command does.
// A slow pipe never truncates what is written this way.
import { writeSync } from "node:fs";
import { jsonText, printableLines } from "../text.ts";

function writeBytes(fd: 1 | 2, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Bun.sleepSync(1);
    }
  }
}

/** Text for people on stdout (1) or stderr (2), every line escaped. */
export function writeText(fd: 1 | 2, text: string): void {
  writeBytes(fd, Buffer.from(printableLines(text)));
}

/** value as indented JSON on stdout, with what the text writer escapes as \u escapes. */
export function writeJson(value: unknown): void {
  writeBytes(1, Buffer.from(`${jsonText(value, 2)}\n`));
}

/**
 * A protocol answer on stdout, byte for byte: only for the changer's replies to the storage
 * daemon and automap's map entry (see above). Anything else uses writeText.
 */
export function writeProtocol(text: string | Uint8Array): void {
  writeBytes(1, typeof text === "string" ? Buffer.from(text) : text);
}
