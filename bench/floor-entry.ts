// The trivial program of the start-up floor: what any Bun-compiled binary pays before our code.
process.stdout.write("0\n");
