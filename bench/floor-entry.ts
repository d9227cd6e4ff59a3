// The trivial program of the start-up floor: what any Bun-compiled binary pays before our code.
// It writes with write(2), as magchanger does: process.stdout alone costs ~25 ms of CPU.
import { writeSync } from "node:fs";

writeSync(1, "0\n");
