// The control channel into the guest: Debian's qemu-guest-agent on a virtio-serial port (not the
// serial console, which the kernel and a getty share). guest-exec runs a program with an argv and
// returns its pid; guest-exec-status gives its exit status and captured output once it ended.
// Calls are serialized (the agent answers in order and carries no ids); programs run concurrently.
import { ChannelError, JsonChannel, type Message } from "./channel.ts";

export interface GuestResult {
  exitCode: number;
  /** The signal that ended it, if one did. */
  signal?: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface GuestExecOptions {
  stdin?: string;
  env?: Record<string, string>;
  /** Killed (SIGKILL) after this long; the result then says so. Default 120 s. */
  timeoutMs?: number;
}

export class GuestTimeout extends Error {}

export class GuestAgent {
  private chain: Promise<unknown> = Promise.resolve();
  private syncId = Math.floor(Math.random() * 1e9);

  private constructor(private readonly channel: JsonChannel) {}

  /** Connects and waits (bounded) until the agent in the guest answers a sync. */
  static async connect(path: string, deadlineMs: number): Promise<GuestAgent> {
    const end = Date.now() + deadlineMs;
    const channel = await JsonChannel.open(path, deadlineMs);
    const agent = new GuestAgent(channel);
    for (;;) {
      try {
        await agent.sync(3_000);
        return agent;
      } catch (error) {
        if (Date.now() > end)
          throw new ChannelError(
            `the guest agent did not answer within ${Math.round(deadlineMs / 1000)} s (${(error as Error).message})`,
          );
      }
    }
  }

  private async sync(timeoutMs: number): Promise<void> {
    const id = ++this.syncId;
    this.channel.send({
      execute: "guest-sync-delimited",
      arguments: { id },
    });
    await this.channel.next((m) => m.return === id, timeoutMs, "agent sync");
    this.channel.discard((m) => typeof m.return === "number");
  }

  private call(
    command: string,
    args: Record<string, unknown>,
    timeoutMs = 30_000,
  ): Promise<unknown> {
    const run = async () => {
      this.channel.send({ execute: command, arguments: args });
      const answer: Message = await this.channel.next(
        (m) => "return" in m || "error" in m,
        timeoutMs,
        `answer to ${command}`,
      );
      if ("error" in answer)
        throw new Error(`${command}: ${JSON.stringify(answer.error)}`);
      return answer.return;
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Runs argv in the guest as root; never throws for a non-zero exit. */
  async exec(
    argv: string[],
    options: GuestExecOptions = {},
  ): Promise<GuestResult> {
    const started = Date.now();
    const [path, ...arg] = argv;
    const { pid } = (await this.call("guest-exec", {
      path,
      arg,
      "capture-output": true,
      ...(options.env
        ? { env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) }
        : {}),
      ...(options.stdin !== undefined
        ? { "input-data": Buffer.from(options.stdin).toString("base64") }
        : {}),
    })) as { pid: number };
    const deadline = started + (options.timeoutMs ?? 120_000);
    let wait = 20;
    for (;;) {
      const status = (await this.call("guest-exec-status", { pid })) as {
        exited: boolean;
        exitcode?: number;
        signal?: number;
        "out-data"?: string;
        "err-data"?: string;
      };
      if (status.exited) {
        const decode = (b64?: string) =>
          b64 ? Buffer.from(b64, "base64").toString("utf8") : "";
        return {
          exitCode: status.exitcode ?? -1,
          ...(status.signal !== undefined ? { signal: status.signal } : {}),
          stdout: decode(status["out-data"]),
          stderr: decode(status["err-data"]),
          ms: Date.now() - started,
        };
      }
      if (Date.now() > deadline) {
        await this.call("guest-exec", {
          path: "/bin/kill",
          arg: ["-KILL", String(pid)],
        }).catch(() => undefined);
        throw new GuestTimeout(
          `${argv.join(" ").slice(0, 200)} still ran in the guest after ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s and was killed`,
        );
      }
      await Bun.sleep(wait);
      wait = Math.min(wait * 2, 250);
    }
  }

  close(): void {
    this.channel.close();
  }
}
