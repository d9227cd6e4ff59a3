// One JSON-per-line conversation over a unix socket, as QEMU's QMP and its guest agent speak it:
// send {"execute": ..., "arguments": ...}, read objects until the answer. Every read is bounded
// by a deadline; asynchronous messages (QMP events) are kept for whoever waits for them.
import { connect, type Socket } from "node:net";

export type Message = Record<string, unknown>;

export class ChannelError extends Error {}

export class JsonChannel {
  private buffer = "";
  private queue: Message[] = [];
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly socket: Socket,
  ) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => this.take(chunk));
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  /** Connects to path, retrying until it exists and accepts or deadlineMs passes. */
  static async open(path: string, deadlineMs: number): Promise<JsonChannel> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once("connect", () => resolve(s));
          s.once("error", reject);
        });
        return new JsonChannel(path, socket);
      } catch (error) {
        if (Date.now() > end)
          throw new ChannelError(
            `cannot connect to ${path}: ${(error as Error).message}`,
          );
        await Bun.sleep(100);
      }
    }
  }

  /** The guest agent prefixes a sync answer with 0xFF; bytes that are no JSON line are dropped. */
  private take(chunk: string): void {
    this.buffer += chunk.replaceAll("\xff", "");
    let at = this.buffer.indexOf("\n");
    while (at >= 0) {
      const line = this.buffer.slice(0, at).trim();
      this.buffer = this.buffer.slice(at + 1);
      if (line.startsWith("{")) {
        try {
          this.queue.push(
            JSON.parse(Buffer.from(line, "latin1").toString("utf8")),
          );
        } catch {
          // a line cut by a reconnect of the guest agent: not ours
        }
      }
      at = this.buffer.indexOf("\n");
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(message: Message): void {
    if (this.closed) throw new ChannelError(`${this.path} is closed`);
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** Removes and returns the first queued message that matches, waiting until deadline. */
  async next(
    matches: (m: Message) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Message> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const at = this.queue.findIndex(matches);
      if (at >= 0) return this.queue.splice(at, 1)[0] as Message;
      if (this.closed)
        throw new ChannelError(`${this.path} closed while waiting for ${what}`);
      const left = end - Date.now();
      if (left <= 0)
        throw new ChannelError(
          `no ${what} on ${this.path} within ${Math.round(timeoutMs / 1000)} s`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Drops queued messages that matches accepts (stale answers after a resync). */
  discard(matches: (m: Message) => boolean): void {
    this.queue = this.queue.filter((m) => !matches(m));
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
    this.wake();
  }
}
