// A magazine disk in the hands of an attacker, for the tests of DESIGN property 9: an ext4 loop
// disk whose root belongs to a throwaway unprivileged user (who plants FIFOs, links and names
// on it with attacker.run), in the one bay of a changer that runs as root (user = "root", the
// worst case: nothing is dropped before the disk is read), and a root-only secret elsewhere.
import { expect } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Attacker, createAttacker } from "./attacker.ts";
import { listOutput, slotsOf, TestChanger } from "./changer.ts";
import { expectSuccess } from "./expect.ts";
import { createLoopFs, destroyAllLoopFs } from "./loop.ts";
import { type RunResult, runBinary } from "./run.ts";
import { makeTempDir, removeTempDir } from "./tmp.ts";

export const SECRET = "ROOTONLYSECRET4711";
/** Any control character but the newline that ends each output line. */
// biome-ignore lint: control characters are exactly what this matches
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;
/** A run that must finish quickly: killed after this, which fails the test. */
export const QUICK = { timeoutMs: 15_000 };

export function expectQuick(result: RunResult): void {
  expect(result.signal).toBeNull();
  expect(result.ms).toBeLessThan(10_000);
}

/** No raw control character, and no line forged by a file name ("FORGED..."). */
export function expectPrintable(...texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).not.toMatch(/^FORGED/m);
  }
}

/** A file only root may read (SECRET + suffix), in a directory only root may enter. */
export function makeSecretFile(dir: string, suffix = ""): string {
  const vault = join(dir, "vault");
  mkdirSync(vault, { mode: 0o700 });
  chmodSync(vault, 0o700);
  const file = join(vault, "token");
  writeFileSync(file, `${SECRET}${suffix}\n`, { mode: 0o600 });
  return file;
}

export class HostileDisk {
  readonly bay: string;
  /** A directory off the disk that the attacker may write. */
  readonly outside: string;
  readonly secretFile: string;
  readonly attacker: Attacker;
  changer!: TestChanger;
  vols: string[] = [];
  /** The legitimate identity's entry name, `.magchanger-UUID`. */
  identity = "";

  private constructor(readonly dir: string) {
    this.attacker = createAttacker();
    this.bay = join(dir, "bay");
    mkdirSync(this.bay);
    mkdirSync(join(dir, "prefix"));
    this.outside = join(dir, "outside");
    mkdirSync(this.outside);
    chownSync(this.outside, this.attacker.uid, this.attacker.gid);
    this.secretFile = makeSecretFile(dir);
  }

  /** The disk with a legitimate magazine of 2 volumes, listed once. */
  static async create(prefix: string): Promise<HostileDisk> {
    const h = new HostileDisk(makeTempDir(prefix));
    try {
      const disk = createLoopFs(h.dir, `${prefix}-disk`.slice(0, 24), {
        owner: { uid: h.attacker.uid, gid: h.attacker.gid },
      });
      disk.mount(h.bay);
      h.changer = new TestChanger(h.dir, {
        name: "dc1",
        drives: 1,
        lockTimeout: 5,
        logLevel: "debug",
        bays: [{ path: h.bay }],
      });
      h.vols = await h.changer.init(1, 2);
      // init hands the bay to the changer's user (root here); the disk is the attacker's.
      chownSync(h.bay, h.attacker.uid, h.attacker.gid);
      h.identity = readdirSync(h.bay).find((n) =>
        n.startsWith(".magchanger-"),
      ) as string;
      expectSuccess(await h.changer.sd("list", 0, 0), h.fullList());
      return h;
    } catch (error) {
      HostileDisk.destroy(h);
      throw error;
    }
  }

  fullList(): string {
    return listOutput(2, slotsOf(this.vols));
  }

  /** Where the legitimate identity waits while a planted one is tested. */
  get saved(): string {
    return join(this.bay, ".saved-identity");
  }

  /** Moves the legitimate identity aside (restore() brings it back). */
  setIdentityAside(): void {
    renameSync(join(this.bay, this.identity), this.saved);
  }

  /** The attacker replaces the identity with a directory of its own (same uuid) and plants in it. */
  plantIdentity(plant: (identityDir: string) => void): void {
    this.setIdentityAside();
    const planted = join(this.bay, this.identity);
    this.attacker.run(["mkdir", "--", planted]);
    plant(planted);
  }

  /** The attacker's copy of the identity off the disk, and the disk's entry a link to it. */
  linkIdentityOffDisk(): string {
    this.setIdentityAside();
    const copy = join(this.outside, "id");
    this.attacker.run(["mkdir", "--", copy]);
    this.attacker.run([
      "cp",
      "--",
      join(this.saved, "magazine.json"),
      join(copy, "magazine.json"),
    ]);
    this.attacker.run(["ln", "-s", copy, join(this.bay, this.identity)]);
    return copy;
  }

  /** Undoes every plant: the legitimate identity back, planted names and outside files gone. */
  async restore(): Promise<void> {
    if (existsSync(this.saved)) {
      rmSync(join(this.bay, this.identity), { recursive: true, force: true });
      renameSync(this.saved, join(this.bay, this.identity));
    }
    for (const name of readdirSync(this.bay))
      if (name.startsWith("planted") || name.startsWith(".magchanger-\u001b"))
        rmSync(join(this.bay, name), { recursive: true, force: true });
    for (const name of readdirSync(this.outside))
      rmSync(join(this.outside, name), { recursive: true, force: true });
    expectSuccess(await this.changer.sd("unload", 0, 0));
  }

  doctor(json = false): Promise<RunResult> {
    return runBinary(
      [
        "doctor",
        "-c",
        this.changer.conf,
        "--prefix",
        join(this.dir, "prefix"),
        ...(json ? ["--json"] : []),
      ],
      QUICK,
    );
  }

  magazineList(json = false): Promise<RunResult> {
    return runBinary(
      [
        "magazine",
        "list",
        "-c",
        this.changer.conf,
        ...(json ? ["--json"] : []),
      ],
      QUICK,
    );
  }

  log(): string {
    const file = this.changer.logFile;
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  /** From afterAll: loop disks, the attacker user and the temp dir, whatever failed before. */
  static destroy(h: HostileDisk | undefined): void {
    destroyAllLoopFs();
    h?.attacker.remove();
    if (h) removeTempDir(h.dir);
  }
}
