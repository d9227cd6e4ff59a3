// A recording notifier (a test fixture may use sh; magchanger itself never does) and a minimal
// Config for the events layer.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config/schema.ts";

/**
 * notifier.sh RECORD GATEDIR: appends "ID KIND SUMMARY STDIN" as one line to RECORD. When
 * GATEDIR/block exists it first creates GATEDIR/started-ID (holding its pid) and waits on the
 * FIFO GATEDIR/gate until the test opens it; GATEDIR/fail makes it exit 3 without recording.
 */
export function writeNotifier(dir: string): {
  path: string;
  record: string;
  gate: string;
} {
  const gate = join(dir, "gate-dir");
  mkdirSync(gate, { recursive: true });
  const path = join(dir, "notifier.sh");
  writeFileSync(
    path,
    `#!/bin/sh
record="$1"; gate="$2"
if [ -e "$gate/fail" ]; then echo "mail: no route to host" >&2; exit 3; fi
if [ -e "$gate/block" ]; then
  echo $$ > "$gate/started-$MAGCHANGER_EVENT_ID"
  cat "$gate/gate" > /dev/null
fi
input=$(cat)
printf '%s %s %s %s\\n' "$MAGCHANGER_EVENT_ID" "$MAGCHANGER_EVENT_KIND" "$MAGCHANGER_EVENT_SUMMARY" "$input" >> "$record"
`,
  );
  chmodSync(path, 0o755);
  return { path, record: join(dir, "record"), gate };
}

export function eventsConfig(
  workDir: string,
  command: string[],
  timeout = 60,
): Config {
  return {
    name: "evtest",
    work_dir: workDir,
    source: join(workDir, "evtest.toml"),
    notify: { command, timeout, nearly_full_percent: 90 },
  } as unknown as Config;
}
