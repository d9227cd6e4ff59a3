// Writing to stdout or stderr with write(2), synchronously. process.stdout/process.stderr are
// streams Bun creates on first use, and creating one costs a compiled binary ~25 ms of CPU here
// (a trivial program: 65 ms with process.stdout.write, 39 ms with fs.writeSync): more than
// everything a protocol command does. A slow pipe never truncates what is written this way.
import { writeSync } from "node:fs";

export function writeAll(fd: 1 | 2, text: string): void {
  const bytes = Buffer.from(text);
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
