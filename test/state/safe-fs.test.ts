import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import {
  createFileExclusive,
  ensureDirectoriesNoFollow,
  openAppendNoFollow,
} from "../../src/state/safe-create.ts";
import {
  linksFollowable,
  readTextBounded,
  readTextIfExists,
  untrustedComponent,
} from "../../src/state/safe-fs.ts";
import { printable, quoted } from "../../src/text.ts";
import { skipUnless } from "../helpers/capabilities.ts";
import { makeTempDir, removeTempDir } from "../helpers/tmp.ts";

const dir = makeTempDir("safe-fs");
afterAll(() => removeTempDir(dir));

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
}

describe("bounded, no-follow reads", () => {
  test("a regular file is read", () => {
    writeFileSync(join(dir, "a"), "hello");
    expect(readTextBounded(join(dir, "a"))).toBe("hello");
  });
  test("a symbolic link is refused with ELOOP, even to a readable file", () => {
    symlinkSync(join(dir, "a"), join(dir, "link"));
    expect(codeOf(() => readTextBounded(join(dir, "link")))).toBe("ELOOP");
  });
  test("a FIFO is refused at once (no blocking open)", () => {
    spawnSync(["mkfifo", join(dir, "fifo")]);
    const started = Date.now();
    expect(codeOf(() => readTextBounded(join(dir, "fifo")))).toBe("ENOTREG");
    expect(Date.now() - started).toBeLessThan(2000);
  });
  test("a file over the cap is refused with EFBIG", () => {
    writeFileSync(join(dir, "big"), Buffer.alloc(70_000));
    expect(codeOf(() => readTextBounded(join(dir, "big")))).toBe("EFBIG");
    expect(readTextBounded(join(dir, "big"), { maxBytes: 80_000 }).length).toBe(
      70_000,
    );
  });
  test("a file with a second hard link is refused with EMLINK", () => {
    writeFileSync(join(dir, "h1"), "x");
    linkSync(join(dir, "h1"), join(dir, "h2"));
    expect(codeOf(() => readTextBounded(join(dir, "h1")))).toBe("EMLINK");
  });
  test("a file of another owner is refused with EOWNER", () => {
    writeFileSync(join(dir, "own"), "x");
    const uid = lstatSync(join(dir, "own")).uid;
    expect(
      codeOf(() => readTextBounded(join(dir, "own"), { owners: [uid + 1] })),
    ).toBe("EOWNER");
  });
  test("a directory is refused with ENOTREG; nothing there is undefined", () => {
    mkdirSync(join(dir, "d"));
    expect(codeOf(() => readTextBounded(join(dir, "d")))).toBe("ENOTREG");
    expect(readTextIfExists(join(dir, "nothing"))).toBeUndefined();
  });
});

describe("reads that follow links (followLinks)", () => {
  test("a link to a regular file is read; a link to a FIFO or a device is refused without opening it", () => {
    writeFileSync(join(dir, "target"), "through");
    symlinkSync(join(dir, "target"), join(dir, "to-file"));
    expect(readTextBounded(join(dir, "to-file"), { followLinks: true })).toBe(
      "through",
    );
    spawnSync(["mkfifo", join(dir, "fifo2")]);
    symlinkSync(join(dir, "fifo2"), join(dir, "to-fifo"));
    symlinkSync("/dev/zero", join(dir, "to-zero"));
    const started = Date.now();
    for (const link of ["to-fifo", "to-zero"])
      expect(
        codeOf(() => readTextBounded(join(dir, link), { followLinks: true })),
      ).toBe("ENOTREG");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test.skipIf(skipUnless(["root"], "linksFollowable as root"))(
    "as root, links are followed only where root alone controls the path",
    () => {
      const open = join(dir, "world-writable");
      mkdirSync(open);
      chmodSync(open, 0o777);
      writeFileSync(join(open, "f"), "x");
      expect(linksFollowable(join(open, "f"))).toBe(false);
      expect(linksFollowable("/etc/passwd")).toBe(true);
      expect(linksFollowable(join(dir, "missing", "f"))).toBe(false);
    },
  );
});

describe("creating without following", () => {
  test("append through a planted link is refused and the target untouched", () => {
    writeFileSync(join(dir, "victim"), "root's");
    symlinkSync(join(dir, "victim"), join(dir, "log"));
    expect(codeOf(() => openAppendNoFollow(join(dir, "log")))).toBe("ELOOP");
    expect(readFileSync(join(dir, "victim"), "utf8")).toBe("root's");
  });
  test("exclusive create refuses an existing name and a dangling link", () => {
    symlinkSync(join(dir, "not-yet"), join(dir, "dangling"));
    expect(
      codeOf(() => createFileExclusive(join(dir, "dangling"), "x", 0o600)),
    ).toBe("EEXIST");
    expect(codeOf(() => readFileSync(join(dir, "not-yet")))).toBe("ENOENT");
  });
  test("directories: a planted link level is refused, real levels are made", () => {
    mkdirSync(join(dir, "elsewhere"));
    symlinkSync(join(dir, "elsewhere"), join(dir, "lnkdir"));
    chmodSync(dir, 0o777);
    expect(
      codeOf(() =>
        ensureDirectoriesNoFollow(join(dir, "lnkdir", "sub"), 0o750),
      ),
    ).toBe("ELOOP");
    chmodSync(dir, 0o700);
    ensureDirectoriesNoFollow(join(dir, "x", "y", "z"), 0o750);
    expect(lstatSync(join(dir, "x", "y", "z")).isDirectory()).toBe(true);
  });
});

describe("trusted paths", () => {
  test.skipIf(skipUnless(["root"], "trusted paths (root-owned files)"))(
    "a root-owned file under root-only directories is trusted; a group-writable level is named",
    () => {
      writeFileSync(join(dir, "conf"), "x");
      expect(untrustedComponent(join(dir, "conf"))).toBeUndefined();
      mkdirSync(join(dir, "gw"));
      chmodSync(join(dir, "gw"), 0o775);
      writeFileSync(join(dir, "gw", "conf"), "x");
      expect(untrustedComponent(join(dir, "gw", "conf"))).toBe(
        `${join(dir, "gw")} is writable by its group (mode 775)`,
      );
    },
  );
});

describe("printable text", () => {
  test("control characters are escaped, other text kept", () => {
    expect(printable("a\x1b[2Jb\nc\x07é")).toBe("a\\x1b[2Jb\\nc\\x07é");
    expect(quoted('x"y\n')).toBe('"x\\"y\\n"');
    expect(printable("a\u202egpj.exe\u2066")).toBe("a\\u202egpj.exe\\u2066");
  });
});

describe("reads racing an atomic writer", () => {
  test("a file renamed over again and again is always read whole, never refused", async () => {
    const path = join(dir, "racing");
    writeFileSync(path, "v".repeat(1000));
    const writer = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const fs=require("node:fs");const end=Date.now()+1500;let i=0;while(Date.now()<end){const t=${JSON.stringify(path)}+".t"+(i++%2);fs.writeFileSync(t,"w".repeat(1000));fs.renameSync(t,${JSON.stringify(path)});}`,
      ],
      { stdout: "ignore", stderr: "inherit" },
    );
    let reads = 0;
    while (writer.exitCode === null) {
      const text = readTextBounded(path);
      expect(text.length).toBe(1000);
      reads++;
      await Bun.sleep(0);
    }
    await writer.exited;
    expect(reads).toBeGreaterThan(10);
  });
});
