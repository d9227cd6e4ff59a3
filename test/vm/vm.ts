// A Debian 12 guest under QEMU's TCG (no KVM: these hosts run inside a hypervisor and a nested
// KVM guest hangs at boot), booted from the cached image through a copy-on-write overlay that
// survives a power cut (killing QEMU) so the same disk can boot again. The freshly built binary,
// README.md and conf/ reach the guest on a read-only payload disk. The host plugs and pulls USB
// disks through QMP and runs commands through the guest agent; every wait is bounded. QEMU runs
// under setpriv --pdeathsig KILL, so it dies with the test process however that ends.
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { REPO, ensureBinary } from "../helpers/run.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";
import { type GuestImage, ensureImage } from "./image.ts";
import { GuestAgent, type GuestExecOptions, type GuestResult } from "./qga.ts";
import { Qmp } from "./qmp.ts";

/** Where the payload disk is mounted in the guest: a checkout as the README's commands need it. */
export const GUEST_CHECKOUT = "/root/magchanger";

const BOOT_TIMEOUT_MS = 240_000;

export interface VmOptions {
  memoryMiB?: number;
  cpus?: number;
  log?: (line: string) => void;
}

export class VmError extends Error {}

export class Vm {
  private qemu: ReturnType<typeof Bun.spawn> | undefined;
  private qmp: Qmp | undefined;
  private agent: GuestAgent | undefined;
  private plugged = new Set<string>();
  readonly log: (line: string) => void;
  /** Milliseconds from QEMU's start to the guest agent's first answer, per boot. */
  readonly boots: number[] = [];

  private constructor(
    readonly dir: string,
    readonly image: GuestImage,
    private readonly options: VmOptions,
  ) {
    this.log = options.log ?? ((line) => console.info(line));
  }

  /** Makes the overlay and the payload disk; the guest is not started yet. */
  static async create(options: VmOptions = {}): Promise<Vm> {
    const log = options.log ?? ((line: string) => console.info(line));
    const image = ensureImage(log);
    const dir = makeTempDir("vm");
    const vm = new Vm(dir, image, options);
    try {
      await vm.host([
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "raw",
        "-b",
        image.root,
        join(dir, "overlay.qcow2"),
      ]);
      await vm.makePayload();
    } catch (error) {
      removeTempDir(dir);
      throw error;
    }
    return vm;
  }

  /** dist/magchanger, README.md and conf/ on a small read-only ext4 disk (/dev/vdb). */
  private async makePayload(): Promise<void> {
    const tree = join(this.dir, "payload");
    mkdirSync(join(tree, "dist"), { recursive: true });
    copyFileSync(ensureBinary(), join(tree, "dist/magchanger"));
    copyFileSync(join(REPO, "README.md"), join(tree, "README.md"));
    cpSync(join(REPO, "conf"), join(tree, "conf"), { recursive: true });
    await this.host([
      "mke2fs",
      "-q",
      "-t",
      "ext4",
      "-d",
      tree,
      "-L",
      "payload",
      join(this.dir, "payload.img"),
      "256M",
    ]);
  }

  /** Path of a file in this VM's host-side directory. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Starts QEMU and waits (bounded) until the guest agent answers and systemd is up. */
  async boot(): Promise<void> {
    if (this.qemu) throw new VmError("the guest is already running");
    const started = Date.now();
    const args = [
      "setpriv",
      "--pdeathsig",
      "KILL",
      "qemu-system-x86_64",
      "-nodefaults",
      "-accel",
      "tcg,thread=multi",
      "-cpu",
      "max",
      "-m",
      String(this.options.memoryMiB ?? 2048),
      "-smp",
      String(this.options.cpus ?? 2),
      "-kernel",
      this.image.kernel,
      "-initrd",
      this.image.initrd,
      "-append",
      "root=/dev/vda rw console=ttyS0 loglevel=5 systemd.show_status=0",
      "-drive",
      `file=${this.path("overlay.qcow2")},if=virtio,format=qcow2`,
      "-drive",
      `file=${this.path("payload.img")},if=virtio,format=raw,readonly=on`,
      "-device",
      "qemu-xhci,id=xhci",
      "-device",
      "virtio-serial",
      "-chardev",
      `socket,id=qga,path=${this.path("qga.sock")},server=on,wait=off`,
      "-device",
      "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
      "-qmp",
      `unix:${this.path("qmp.sock")},server=on,wait=off`,
      "-serial",
      `file:${this.path("serial.log")}`,
      "-display",
      "none",
      "-monitor",
      "none",
    ];
    for (const sock of ["qmp.sock", "qga.sock"])
      Bun.spawnSync(["rm", "-f", this.path(sock)]);
    this.qemu = Bun.spawn(args, {
      stdin: "ignore",
      stdout: "ignore",
      stderr: Bun.file(this.path("qemu.err")),
    });
    try {
      this.qmp = await Qmp.connect(this.path("qmp.sock"), 30_000);
      this.agent = await GuestAgent.connect(
        this.path("qga.sock"),
        BOOT_TIMEOUT_MS,
      );
      this.boots.push(Date.now() - started);
      const state = await this.exec(
        ["systemctl", "is-system-running", "--wait"],
        { timeoutMs: 120_000 },
      );
      if (!/running|degraded/.test(state.stdout))
        this.log(`vm: systemd says ${state.stdout.trim()} after boot`);
      await this.must(["mkdir", "-p", GUEST_CHECKOUT]);
      await this.must(["mount", "-o", "ro", "/dev/vdb", GUEST_CHECKOUT]);
    } catch (error) {
      throw new VmError(`${(error as Error).message}\n${this.consoleTail()}`);
    }
    this.log(
      `vm: guest up in ${Math.round((Date.now() - started) / 1000)} s (agent answered after ${Math.round((this.boots.at(-1) ?? 0) / 1000)} s)`,
    );
  }

  /** Everything the guest wrote on its serial console since this boot. */
  consoleText(): string {
    const path = this.path("serial.log");
    return existsSync(path) ? readFileSync(path, "latin1") : "";
  }

  /** The last lines the guest's kernel wrote on its serial console. */
  consoleTail(lines = 40): string {
    const path = this.path("serial.log");
    if (!existsSync(path)) return "(no console output)";
    return readFileSync(path, "latin1").split("\n").slice(-lines).join("\n");
  }

  /** Runs argv in the guest as root. */
  exec(argv: string[], options?: GuestExecOptions): Promise<GuestResult> {
    if (!this.agent) throw new VmError("the guest is not running");
    return this.agent.exec(argv, options);
  }

  /** Runs argv in the guest and fails with its output unless it exits 0. */
  async must(argv: string[], options?: GuestExecOptions): Promise<GuestResult> {
    const r = await this.exec(argv, options);
    if (r.exitCode !== 0)
      throw new VmError(
        `guest: ${argv.join(" ").slice(0, 300)} exited ${r.exitCode}${r.signal ? ` (signal ${r.signal})` : ""}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`,
      );
    return r;
  }

  /** bash -c script in the guest (harness-side only: the product never runs a shell). */
  sh(script: string, options?: GuestExecOptions): Promise<GuestResult> {
    return this.exec(["/bin/bash", "-o", "pipefail", "-c", script], options);
  }

  async mustSh(script: string, options?: GuestExecOptions): Promise<string> {
    return (
      await this.must(["/bin/bash", "-o", "pipefail", "-c", script], options)
    ).stdout;
  }

  /** Writes a file in the guest (through the agent's stdin, as root). */
  async writeFile(path: string, text: string, mode = "0644"): Promise<void> {
    await this.must(["install", "-D", "-m", mode, "/dev/stdin", path], {
      stdin: text,
    });
  }

  /** Polls check in the guest until it exits 0, at most timeoutMs; returns the ms it took. */
  async until(
    what: string,
    script: string,
    timeoutMs: number,
    everyMs = 250,
  ): Promise<number> {
    const started = Date.now();
    for (;;) {
      const r = await this.sh(script, { timeoutMs: 30_000 });
      if (r.exitCode === 0) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new VmError(
          `${what}: not within ${Math.round(timeoutMs / 1000)} s (last check: exit ${r.exitCode} ${r.stdout.slice(-500)} ${r.stderr.slice(-500)})`,
        );
      await Bun.sleep(everyMs);
    }
  }

  /** A new sparse USB disk image of size MiB on the host. */
  newDisk(name: string, sizeMiB: number): string {
    const path = this.path(`${name}.img`);
    writeFileSync(path, "");
    Bun.spawnSync(["truncate", "-s", `${sizeMiB}M`, path]);
    return path;
  }

  /** Plugs image in as a USB mass-storage disk on the xHCI bus (id names it for unplug). */
  async plug(id: string, image: string, serial = id): Promise<void> {
    if (!this.qmp) throw new VmError("the guest is not running");
    await this.qmp.execute("blockdev-add", {
      driver: "raw",
      "node-name": `node-${id}`,
      file: { driver: "file", filename: image },
    });
    await this.qmp.execute("device_add", {
      driver: "usb-storage",
      bus: "xhci.0",
      drive: `node-${id}`,
      id,
      serial,
    });
    this.plugged.add(id);
  }

  isPlugged(id: string): boolean {
    return this.plugged.has(id);
  }

  /** Pulls the USB disk id out, with no warning to the guest (a yank: device_del). */
  async unplug(id: string): Promise<void> {
    if (!this.qmp) throw new VmError("the guest is not running");
    await this.qmp.execute("device_del", { id });
    await this.qmp.event("DEVICE_DELETED", (d) => d.device === id, 30_000);
    await this.qmp.execute("blockdev-del", { "node-name": `node-${id}` });
    this.plugged.delete(id);
  }

  /** Power cut: QEMU is killed, whatever the guest had not written out is lost. */
  async powerCut(): Promise<void> {
    this.agent?.close();
    this.qmp?.close();
    this.agent = undefined;
    this.qmp = undefined;
    this.plugged.clear();
    if (this.qemu) {
      this.qemu.kill("SIGKILL");
      await this.qemu.exited;
    }
    this.qemu = undefined;
  }

  /** Stops the guest (power cut: nothing of it is kept but the overlay) and removes every file. */
  async destroy(): Promise<void> {
    await this.powerCut();
    removeTempDir(this.dir);
  }

  private async host(argv: string[]): Promise<void> {
    const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
    const [code, err] = await Promise.all([
      proc.exited,
      new Response(proc.stderr).text(),
    ]);
    clearTimeout(timer);
    if (code !== 0)
      throw new VmError(`${argv.join(" ")} failed (exit ${code}): ${err}`);
  }
}
