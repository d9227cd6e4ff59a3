// `npm run demo -- --vm`: the seed's story on a real kernel, for a newcomer with no USB disk. A
// Debian 12 guest under QEMU (software emulation, no KVM needed), two virtual USB disks plugged
// and pulled as a person would, each step printed as the operator sees it. The story and its
// checks are the VM suite's own (test/vm/story.ts). Needs root (the image is built with
// mmdebstrap), qemu-system-x86, qemu-utils and mmdebstrap, ~3 GiB of memory, ~2 GiB of disk in
// /var/cache/magchanger-vm for the cached image, and ~3 min (~4 the first time, building the
// image). Everything it starts (QEMU, the overlay, the disk images) is removed at the end, also
// when a step fails or on Ctrl-C.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missing } from "../helpers/capabilities.ts";
import { ms, SeedStory } from "../vm/story.ts";

export async function vmDemo(): Promise<number> {
  const lacking = missing("vm");
  if (lacking) {
    console.error(
      `demo --vm: ${lacking}; as root: apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils mmdebstrap`,
    );
    return 2;
  }
  // The VM's files go below one temp root of the demo's, removed whole at the end.
  const root = mkdtempSync(join(tmpdir(), "magchanger-demo-vm-"));
  process.env.MAGCHANGER_TEST_ROOT = root;
  const started = Date.now();
  const say = (line: string) =>
    console.log(`[${ms(Date.now() - started).padStart(7)}] ${line}`);
  let story: SeedStory | undefined;
  const stop = async () => {
    await story?.end(false);
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let failed = true;
  try {
    story = await SeedStory.start(say);
    await story.firstBackup();
    await story.replug();
    await story.secondDisk();
    await story.restoreWaitsForA();
    await story.ejectAndPull("A", "Monday");
    failed = false;
    say(`done: ${story.figures.join("; ")}`);
    return 0;
  } catch (error) {
    say(`FAILED: ${(error as Error).message}`);
    return 1;
  } finally {
    await story?.end(failed);
    rmSync(root, { recursive: true, force: true });
  }
}
