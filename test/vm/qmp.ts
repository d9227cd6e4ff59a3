// QEMU's monitor protocol (QMP): the host's hands on the machine. USB disks are plugged with
// blockdev-add + device_add on the xHCI bus and pulled with device_del (a surprise removal for
// the guest, as a yank is); the guest sees nothing of this channel.
import { JsonChannel, type Message } from "./channel.ts";

export class QmpError extends Error {}

export class Qmp {
  private id = 0;

  private constructor(private readonly channel: JsonChannel) {}

  static async connect(path: string, deadlineMs: number): Promise<Qmp> {
    const channel = await JsonChannel.open(path, deadlineMs);
    await channel.next((m) => "QMP" in m, 10_000, "QMP greeting");
    const qmp = new Qmp(channel);
    await qmp.execute("qmp_capabilities");
    return qmp;
  }

  async execute(
    command: string,
    args?: Record<string, unknown>,
    timeoutMs = 30_000,
  ): Promise<unknown> {
    const id = `c${++this.id}`;
    this.channel.send({
      execute: command,
      ...(args ? { arguments: args } : {}),
      id,
    });
    const answer = await this.channel.next(
      (m) => m.id === id,
      timeoutMs,
      `answer to ${command}`,
    );
    if ("error" in answer)
      throw new QmpError(
        `${command} ${JSON.stringify(args ?? {})}: ${JSON.stringify(answer.error)}`,
      );
    return answer.return;
  }

  /** The next event called name for which matches holds (events seen earlier count too). */
  event(
    name: string,
    matches: (data: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Message> {
    return this.channel.next(
      (m) =>
        m.event === name && matches((m.data ?? {}) as Record<string, unknown>),
      timeoutMs,
      `QMP event ${name}`,
    );
  }

  close(): void {
    this.channel.close();
  }
}
