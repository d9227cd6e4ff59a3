// `list` of a big changer (> 64 KiB, a pipe's buffer) through a pipe the reader drains slowly,
// as a busy storage daemon or bconsole would: the output must arrive complete. (A process that
// queues its output and exits is cut at 65536 bytes; see PLATFORM.md.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdirSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { listOutput, slotsOf, TestChanger } from "../helpers/changer.ts";
import { ensureBinary, tool } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const VOLUMES = 6000;
let dir = "";
let changer: TestChanger;
let vols: string[] = [];

beforeAll(async () => {
  dir = makeTempDir("listpipe");
  const bay = join(dir, "bay");
  mkdirSync(bay);
  changer = new TestChanger(dir, {
    name: "lp1",
    drives: 1,
    bays: [{ path: bay, allowUnmounted: true }],
  });
  vols = await changer.init(1, VOLUMES);
});

afterAll(() => {
  if (dir) removeTempDir(dir);
});

/**
 * Runs `changer CONF ARGS` with stdout on a FIFO that this test reads: nothing for `stallMs`
 * (the pipe fills and the writer must wait), then `chunk` bytes per millisecond.
 */
async function readThroughSlowPipe(
  args: string[],
  options: { nonBlockingWriter: boolean; stallMs: number; chunk: number },
): Promise<{
  stdout: string;
  stderr: string;
  exitCode: number;
  runningWhileStalled: boolean;
}> {
  const fifo = join(dir, `pipe-${Math.random().toString(36).slice(2)}`);
  tool(["mkfifo", "--", fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(
    fifo,
    constants.O_WRONLY | (options.nonBlockingWriter ? constants.O_NONBLOCK : 0),
  );
  const child = Bun.spawn([ensureBinary(), "changer", changer.conf, ...args], {
    stdin: "ignore",
    stdout: writer,
    stderr: "pipe",
    env: { PATH: "/usr/bin:/bin" },
  });
  closeSync(writer);
  const stderr = new Response(child.stderr).text();
  await Bun.sleep(options.stallMs);
  const runningWhileStalled = child.exitCode === null;
  const parts: Buffer[] = [];
  const buffer = Buffer.alloc(options.chunk);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(reader, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
        await Bun.sleep(1);
        continue;
      }
      if (n === 0) break;
      parts.push(Buffer.from(buffer.subarray(0, n)));
      await Bun.sleep(1);
    }
  } finally {
    closeSync(reader);
  }
  return {
    stdout: Buffer.concat(parts).toString(),
    stderr: await stderr,
    exitCode: await child.exited,
    runningWhileStalled,
  };
}

describe("list output larger than a pipe buffer", () => {
  test("list of 6,000 volumes arrives complete through a slowly read blocking pipe", async () => {
    const expected = listOutput(VOLUMES, slotsOf(vols));
    expect(expected.length).toBeGreaterThan(64 * 1024);
    const result = await readThroughSlowPipe(["list"], {
      nonBlockingWriter: false,
      stallMs: 500,
      chunk: 1024,
    });
    expect({
      exitCode: result.exitCode,
      stderr: result.stderr,
      bytes: result.stdout.length,
    }).toEqual({
      exitCode: 0,
      stderr: "",
      bytes: expected.length,
    });
    expect(result.stdout).toBe(expected);
    // It had to wait for the reader: the output did not fit the pipe.
    expect(result.runningWhileStalled).toBe(true);
  });

  test("list and listall arrive complete through a slowly read non-blocking pipe", async () => {
    const list = await readThroughSlowPipe(["list"], {
      nonBlockingWriter: true,
      stallMs: 300,
      chunk: 512,
    });
    expect({ exitCode: list.exitCode, stderr: list.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
    expect(list.stdout).toBe(listOutput(VOLUMES, slotsOf(vols)));
    const listall = await readThroughSlowPipe(["listall"], {
      nonBlockingWriter: true,
      stallMs: 300,
      chunk: 4096,
    });
    expect({ exitCode: listall.exitCode, stderr: listall.stderr }).toEqual({
      exitCode: 0,
      stderr: "",
    });
    expect(listall.stdout).toBe(
      `D:0:E\n${vols.map((v, i) => `S:${i + 1}:F:${v}\n`).join("")}`,
    );
  });
});
