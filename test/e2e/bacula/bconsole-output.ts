// Parsers for bconsole output (Bacula 9.6.7 formats, as measured).

/** `Job queued. JobId=N` from `run ... yes` and `restore ... yes`. */
export function parseQueuedJobId(out: string): number | undefined {
  const m = /Job queued\. JobId=(\d+)/.exec(out);
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * `llist` prints records as `Key: value` lines (keys right-aligned), records separated by blank
 * lines. Keys are returned lower-cased (9.6 prints `JobStatus`, `VolumeName`, `InChanger`...).
 */
export function parseLlist(out: string): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  for (const line of out.split("\n")) {
    const m = /^\s*([A-Za-z]+): ?(.*)$/.exec(line);
    if (!m?.[1]) {
      if (line.trim() === "" && current) {
        records.push(current);
        current = undefined;
      }
      continue;
    }
    current ??= {};
    current[m[1].toLowerCase()] = (m[2] ?? "").trim();
  }
  if (current) records.push(current);
  return records;
}

/** The `wait jobid=N` answer: `JobStatus=OK (T)`. */
export function parseWaitStatus(
  out: string,
): { text: string; letter: string } | undefined {
  const m = /JobStatus=(.*) \((.)\)/.exec(out);
  return m?.[1] && m[2] ? { text: m[1], letter: m[2] } : undefined;
}

/** The job's line under "Running Jobs:" in `status dir`, e.g. `1 Back Full 0 0 job is waiting ...`. */
export function runningJobLine(
  statusDir: string,
  jobid: number,
): string | undefined {
  const start = statusDir.indexOf("Running Jobs:");
  if (start < 0) return undefined;
  const end = statusDir.indexOf(
    "====",
    statusDir.indexOf("======", start) + 10,
  );
  const section = statusDir.slice(start, end < 0 ? undefined : end);
  return section
    .split("\n")
    .find((l) => new RegExp(`^\\s*${jobid}\\s`).test(l))
    ?.trim();
}

/**
 * Waits that never end by themselves in a test: nobody mounts or labels a volume by hand.
 * (Transient ones like "is waiting execution" or "on max Storage jobs" are not listed.)
 */
export const OPERATOR_WAIT =
  /is waiting (for an appendable Volume|for a mount request|for Mount|on mount|for a new Volume)/i;

/** Lines in job logs that mean the changer or a volume failed. */
export const CHANGER_TROUBLE =
  /Bad autochanger|399\d |status is ERR|ERR=|Autochanger error|Could not (open|read|write|mount)|Cannot find any appendable volumes|Please mount|Fatal error|Error:/i;
