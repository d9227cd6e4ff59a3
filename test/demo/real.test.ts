// Issue 11 item 9: `npm run demo -- --real` (root) runs a real Bacula on two ext4 loop disks
// through magchanger, ends in a restore verified by sha256, and leaves nothing behind: no loop
// device, mount, process or temp dir of its own, also when it is interrupted with SIGINT (Ctrl-C).
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../helpers/capabilities.ts";
import { ensureBinary, REPO } from "../helpers/run.ts";
import { CHANGER_SCENARIO } from "../e2e/bacula/magchanger.ts";

const SUITE = "npm run demo -- --real";

/** The demo's own temp roots, as it prints them. */
function roots(output: string): string[] {
  const found = output.matchAll(
    /(\/tmp\/magchanger-e2e-(?:demo|bacula)-[A-Za-z0-9]+)/g,
  );
  return [...new Set([...found].map((m) => m[1] ?? ""))];
}

/** What is still there of root: loop devices, mounts, processes, the dir itself. */
function leftovers(root: string): string[] {
  const left: string[] = [];
  const loops = Bun.spawnSync(["losetup", "-a"]).stdout.toString();
  for (const line of loops.split("\n"))
    if (line.includes(root)) left.push(`loop: ${line}`);
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n"))
    if (line.split(" ")[4]?.startsWith(root)) left.push(`mount: ${line}`);
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes(root) && Number(pid) !== process.pid)
        left.push(`process ${pid}: ${cmd.replaceAll("\0", " ")}`);
    } catch {
      // gone
    }
  }
  if (existsSync(root)) left.push(`dir: ${root}`);
  return left;
}

function startDemo() {
  ensureBinary();
  return Bun.spawn([process.execPath, "test/demo/run.ts", "--real"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      LANG: "C",
    },
  });
}

describe.skipIf(skipUnless(CHANGER_SCENARIO, SUITE))(SUITE, () => {
  test("labels, backs up, swaps, restores, verifies by sha256, then removes everything it made", async () => {
    const demo = startDemo();
    const [out, err] = await Promise.all([
      new Response(demo.stdout).text(),
      new Response(demo.stderr).text(),
      demo.exited,
    ]);
    expect(demo.exitCode, out + err).toBe(0);
    expect(out).toMatch(
      /\n {4}restore verified: \d+ files \(40\.0 MB\) equal by sha256\n\n==> removed everything: daemons, mounts, loop devices, \/tmp\/magchanger-e2e-demo-\w+\n$/,
    );
    for (const step of ["1.", "2.", "3.", "4.", "5.", "6.", "7.", "8.", "9."])
      expect(out).toContain(`\n==> ${step} `);
    expect(out).toContain("label barcodes storage=");
    expect(roots(out)).toHaveLength(2);
    for (const root of roots(out)) expect(leftovers(root)).toEqual([]);
    console.info(
      out
        .split("\n")
        .filter((l) => /^ {4}(job|restore)/.test(l))
        .join("\n"),
    );
  }, 600_000);

  test("Ctrl-C (SIGINT) in the middle of the backup stops it and still removes everything", async () => {
    const demo = startDemo();
    let out = "";
    const decoder = new TextDecoder();
    const reader = demo.stdout.getReader();
    // Interrupt once the backup step has begun (output, not time, decides).
    while (!out.includes("\n==> 5. ")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += decoder.decode(value);
    }
    demo.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += decoder.decode(value);
    }
    await demo.exited;
    expect(demo.exitCode, out).toBe(130);
    expect(out).toContain("\n==> SIGINT: stopping\n");
    expect(out).toMatch(/\n==> removed everything: [^\n]*\n$/);
    expect(roots(out)).toHaveLength(2);
    for (const root of roots(out)) expect(leftovers(root)).toEqual([]);
  }, 600_000);
});
