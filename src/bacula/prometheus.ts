// `status --prometheus`: the monitor's facts (monitor.ts) in Prometheus's text exposition format
// for node_exporter's textfile collector. Every sample is labelled with its changer (and its
// magazine number); sizes are _bytes and times _timestamp_seconds (Unix time), as the naming
// conventions ask: an age is `time() - ..._timestamp_seconds` in PromQL. Whether a disk is past
// [rotation]'s limit is changer/rotation.ts's verdict, the one check and status give.
import { rotationFact } from "../changer/rotation.ts";
import type { MonitorFacts } from "./monitor.ts";
import { waitingJobs } from "./monitor.ts";

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

/** A label value as the format requires: backslash, double quote and newline escaped. */
function labelValue(value: string): string {
  return value
    .replaceAll("\\", "\\\\")
    .replaceAll('"', '\\"')
    .replaceAll("\n", "\\n");
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(
    ([k, v]) => `${k}="${labelValue(v)}"`,
  );
  return `${name}{${pairs.join(",")}} ${Number.isInteger(value) ? value : value.toFixed(3)}`;
}

const seconds = (iso: string | Date) =>
  Math.floor(new Date(iso).getTime() / 1000);

function families(f: MonitorFacts): Family[] {
  const changer = { changer: f.changer };
  const one = (name: string, help: string, value: number | undefined) => ({
    name,
    help,
    samples: value === undefined ? [] : [{ labels: changer, value }],
  });
  const perMagazine = (
    name: string,
    help: string,
    value: (m: MonitorFacts["magazines"][number]) => number | undefined,
  ): Family => ({
    name,
    help,
    samples: f.magazines.flatMap((m) => {
      const v = value(m);
      return v === undefined
        ? []
        : [{ labels: { ...changer, magazine: String(m.number) }, value: v }];
    }),
  });
  const timestamp = (iso: string | undefined) =>
    iso === undefined || Number.isNaN(Date.parse(iso))
      ? undefined
      : seconds(iso);
  const storage = f.storage;
  return [
    one(
      "magchanger_volumes",
      "Volumes in the changer's slot registry.",
      f.volumes,
    ),
    {
      name: "magchanger_magazine_info",
      help: "Every magazine the changer knows: its number, name, filesystem label and identity UUID.",
      samples: f.magazines.map((m) => ({
        labels: {
          ...changer,
          magazine: String(m.number),
          name: m.name ?? "",
          label: m.label ?? "",
          uuid: m.uuid,
        },
        value: 1,
      })),
    },
    perMagazine(
      "magchanger_magazine_attached",
      "1 when the magazine is in a bay (as of the last refresh), 0 in the drawer.",
      (m) => (m.attached ? 1 : 0),
    ),
    perMagazine(
      "magchanger_magazine_volumes",
      "Volumes of the magazine in the slot registry.",
      (m) => m.volumes,
    ),
    perMagazine(
      "magchanger_magazine_free_bytes",
      "Space the run-as user may still write on an attached magazine; absent when its filesystem is not mounted now.",
      (m) => m.space?.availableBytes,
    ),
    perMagazine(
      "magchanger_magazine_size_bytes",
      "Space the run-as user may fill on an attached magazine at most (root's reserve excluded).",
      (m) => m.space?.usableBytes,
    ),
    perMagazine(
      "magchanger_magazine_attached_timestamp_seconds",
      "When a refresh last saw the magazine arrive in a bay (Unix time).",
      (m) => timestamp(m.attachedAt),
    ),
    perMagazine(
      "magchanger_magazine_removed_timestamp_seconds",
      "When a refresh last saw the magazine leave its bay (Unix time); only for a magazine in the drawer.",
      (m) => (m.attached ? undefined : timestamp(m.removedAt)),
    ),
    perMagazine(
      "magchanger_magazine_rotation_overdue",
      "1 when the magazine has been in its bay for [rotation] max_days_attached days or more (in the drawer: max_days_absent), else 0; absent without that limit or a recorded time.",
      (m) => {
        const fact = rotationFact(m, f.rotation, f.now);
        if (fact.limitDays === undefined || fact.seconds === undefined)
          return undefined;
        return fact.overdue ? 1 : 0;
      },
    ),
    one(
      "magchanger_refresh_pending",
      "1 while a Bacula update (refresh) is under way or failed and waits for its retry.",
      f.refreshPendingSince === undefined ? 0 : 1,
    ),
    one(
      "magchanger_refresh_pending_since_timestamp_seconds",
      "When the pending Bacula update began (Unix time).",
      timestamp(f.refreshPendingSince),
    ),
    one(
      "magchanger_events_queued",
      "Events queued for the [notify] command and not delivered yet.",
      f.queuedEvents,
    ),
    one(
      "magchanger_events_oldest_queued_timestamp_seconds",
      "When the oldest undelivered event was queued (Unix time).",
      f.oldestQueuedAt === undefined ? undefined : seconds(f.oldestQueuedAt),
    ),
    one(
      "magchanger_storage_daemon_up",
      "1 when the storage daemon answered status storage through bconsole, 0 when it did not.",
      storage === undefined ? undefined : "error" in storage ? 0 : 1,
    ),
    one(
      "magchanger_jobs_waiting",
      "Jobs the storage daemon holds until a volume or a disk comes.",
      storage && "waits" in storage ? waitingJobs(storage.waits) : undefined,
    ),
  ];
}

export function renderMetrics(f: MonitorFacts): string {
  const lines: string[] = [];
  for (const family of families(f)) {
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help}`);
    lines.push(`# TYPE ${family.name} gauge`);
    for (const s of family.samples)
      lines.push(sampleLine(family.name, s.labels, s.value));
  }
  return `${lines.join("\n")}\n`;
}
