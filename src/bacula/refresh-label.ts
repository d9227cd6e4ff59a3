// refresh's `label barcodes` for the blank volumes the catalog lacks, as bconsole needs it.
import type { ChangerContext } from "../changer/context.ts";
import { quoteName, runBconsole, slotRanges } from "./bconsole.ts";

/**
 * `label barcodes` for the slots. Bacula 9.6.7 mangles a pool name with a space after the
 * first volume of one command (`Pool "Off\x01Site" resource not found`, seen on the real
 * Director): such a pool gets one command per slot.
 */
export function labelCommands(
  storage: string,
  pool: string,
  drive: number,
  slots: number[],
): string[] {
  const groups = /\s/.test(pool) ? slots.map((s) => [s]) : [slots];
  return groups.map(
    (g) =>
      `label barcodes storage=${storage} pool=${quoteName(pool)} drive=${drive} slots=${slotRanges(g)}`,
  );
}

/** Runs the label commands (each confirmed), then lists the catalog again. */
export async function labelSlots(ctx: ChangerContext, labeling: string[]) {
  for (const c of labeling) ctx.log.info(`refresh: running bconsole: ${c}`);
  const result = await runBconsole(
    ctx.config,
    [...labeling.flatMap((c) => [c, "yes"]), "list volumes"],
    ctx.sys.exec,
  );
  ctx.log.debug(`refresh: label barcodes said: ${result.output.slice(-4000)}`);
  // Bacula reports a volume it could not label and carries on: say it in the log.
  const failed =
    /^(?:3999 |Label command failed|Pool ".*" resource not found).*$/gm;
  for (const line of result.output.match(failed) ?? [])
    ctx.log.warn(`refresh: label barcodes: ${line}`);
  return result;
}

/**
 * The labels Bacula just wrote, on the disk now: ext4 writes a new file's data out only after
 * ~30 s, and a disk pulled before then came back with empty volume files the catalog counts as
 * labeled (seen in the VM suite: a yank 20 s after refresh labeled them).
 */
export async function syncBays(
  ctx: ChangerContext,
  mounts: string[],
): Promise<void> {
  for (const mount of mounts) {
    const r = await ctx.sys.exec(["sync", "-f", "--", mount], {
      timeoutMs: 60_000,
    });
    if (r.exitCode !== 0)
      ctx.log.warn(
        `refresh: sync -f ${mount} failed (exit ${r.exitCode}); the new labels reach the disk within ~30 s`,
      );
  }
}
