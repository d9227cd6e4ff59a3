// The metrics file (bacula/prometheus.ts) read back by a strict parser of the text exposition
// format and, where Debian's prometheus package is installed, by `promtool check metrics`: HELP
// and TYPE for every family, gauges named by their unit, a changer label on every sample and a
// magazine label on each magazine's.
import { describe, expect, test } from "bun:test";
import type { MonitorFacts } from "../../src/bacula/monitor.ts";
import { renderMetrics } from "../../src/bacula/prometheus.ts";
import { missing, recordSkip, toolPath } from "../helpers/capabilities.ts";
import { parsePromText } from "../helpers/prom-text.ts";

const facts: MonitorFacts = {
  changer: "usbchanger1",
  now: new Date("2026-03-10T12:00:00.000Z"),
  volumes: 20,
  magazines: [
    {
      number: 1,
      uuid: "00000000-0000-4000-8000-000000000001",
      name: "Monday",
      label: 'we"ird\\label',
      volumes: 10,
      attached: true,
      bay: 1,
      attachedAt: "2026-03-07T00:00:00.000Z",
      space: { availableBytes: 5000, usableBytes: 9000 },
    },
    {
      number: 2,
      uuid: "00000000-0000-4000-8000-000000000002",
      volumes: 10,
      attached: false,
      attachedAt: "2026-02-01T00:00:00.000Z",
      removedAt: "2026-03-07T00:00:00.000Z",
    },
  ],
  told: true,
  refreshPendingSince: "2026-03-10T11:00:00.000Z",
  queuedEvents: 2,
  oldestQueuedAt: new Date("2026-03-10T11:30:00.000Z"),
  notify: true,
  storage: {
    waits: [
      { drive: 1, jobs: [{ jobid: 4, name: "backup" }], attached: false },
    ],
  },
};

const value = (text: string, name: string, labels: Record<string, string>) =>
  parsePromText(text)
    .find((f) => f.name === name)
    ?.samples.find((s) =>
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )?.value;

describe("the metrics", () => {
  const text = renderMetrics(facts);

  test("read strictly: every family has HELP and TYPE gauge, every sample its changer", () => {
    const families = parsePromText(text);
    expect(families.map((f) => f.name)).toEqual([
      "magchanger_volumes",
      "magchanger_magazine_info",
      "magchanger_magazine_attached",
      "magchanger_magazine_volumes",
      "magchanger_magazine_free_bytes",
      "magchanger_magazine_size_bytes",
      "magchanger_magazine_attached_timestamp_seconds",
      "magchanger_magazine_removed_timestamp_seconds",
      "magchanger_refresh_pending",
      "magchanger_refresh_pending_since_timestamp_seconds",
      "magchanger_events_queued",
      "magchanger_events_oldest_queued_timestamp_seconds",
      "magchanger_storage_daemon_up",
      "magchanger_jobs_waiting",
    ]);
    for (const f of families) {
      expect(f.type).toBe("gauge");
      expect(f.help?.length).toBeGreaterThan(10);
      for (const s of f.samples) {
        expect(s.labels.changer).toBe("usbchanger1");
        if (f.name.startsWith("magchanger_magazine_"))
          expect(s.labels.magazine).toMatch(/^\d+$/);
      }
    }
  });

  test("the figures: bytes, Unix times, waits, and label values escaped", () => {
    expect(
      value(text, "magchanger_magazine_free_bytes", { magazine: "1" }),
    ).toBe(5000);
    expect(
      value(text, "magchanger_magazine_size_bytes", { magazine: "1" }),
    ).toBe(9000);
    expect(
      value(text, "magchanger_magazine_free_bytes", { magazine: "2" }),
    ).toBeUndefined();
    expect(
      value(text, "magchanger_magazine_attached_timestamp_seconds", {
        magazine: "1",
      }),
    ).toBe(Date.parse("2026-03-07T00:00:00.000Z") / 1000);
    expect(
      value(text, "magchanger_magazine_removed_timestamp_seconds", {
        magazine: "2",
      }),
    ).toBe(Date.parse("2026-03-07T00:00:00.000Z") / 1000);
    expect(
      value(text, "magchanger_magazine_removed_timestamp_seconds", {
        magazine: "1",
      }),
    ).toBeUndefined();
    expect(value(text, "magchanger_magazine_attached", { magazine: "2" })).toBe(
      0,
    );
    expect(value(text, "magchanger_jobs_waiting", {})).toBe(1);
    expect(value(text, "magchanger_storage_daemon_up", {})).toBe(1);
    expect(value(text, "magchanger_refresh_pending", {})).toBe(1);
    expect(value(text, "magchanger_events_queued", {})).toBe(2);
    expect(
      value(text, "magchanger_magazine_info", {
        magazine: "1",
        name: "Monday",
        label: 'we"ird\\label',
      }),
    ).toBe(1);
    expect(text).toContain('label="we\\"ird\\\\label"');
  });

  test("rotation_overdue: 1 past [rotation]'s limit for where the disk is, 0 before it, absent without a limit", () => {
    // Magazine 1 attached 3.5 days, magazine 2 in the drawer 3.5 days (facts.now).
    const overdue = (rotation: MonitorFacts["rotation"], magazine: string) =>
      value(
        renderMetrics({ ...facts, ...(rotation ? { rotation } : {}) }),
        "magchanger_magazine_rotation_overdue",
        { magazine },
      );
    expect(overdue({ max_days_attached: 3 }, "1")).toBe(1);
    expect(overdue({ max_days_attached: 3 }, "2")).toBeUndefined();
    expect(overdue({ max_days_attached: 4, max_days_absent: 3 }, "1")).toBe(0);
    expect(overdue({ max_days_attached: 4, max_days_absent: 3 }, "2")).toBe(1);
    expect(text).not.toContain("magchanger_magazine_rotation_overdue");
  });

  test("the storage daemon down: up 0 and no waiting figure; not asked: neither", () => {
    const down = renderMetrics({ ...facts, storage: { error: "x" } });
    expect(value(down, "magchanger_storage_daemon_up", {})).toBe(0);
    expect(down).not.toContain("magchanger_jobs_waiting");
    const { storage: _, ...local } = facts;
    expect(renderMetrics(local)).not.toContain("magchanger_storage_daemon_up");
  });

  test("the strict reader refuses what node_exporter would", () => {
    const bad = [
      'x{a="b} 1\n',
      "x 1\n# TYPE x gauge\n",
      "x 1\ny 1\nx 2\n",
      'x{a="1"} 1\nx{a="1"} 2\n',
      "x one\n",
      "x 1",
      'x{a="\\q"} 1\n',
    ];
    for (const text of bad) expect(() => parsePromText(text)).toThrow();
  });

  const why = missing("tool:promtool");
  if (why) recordSkip("promtool check metrics", why);
  test.skipIf(why !== undefined)(
    "promtool check metrics finds nothing to say",
    async () => {
      for (const t of [
        text,
        renderMetrics({ ...facts, storage: { error: "x" } }),
        renderMetrics({ ...facts, rotation: { max_days_attached: 3 } }),
      ]) {
        const proc = Bun.spawn(
          [toolPath("promtool") as string, "check", "metrics"],
          {
            stdin: new TextEncoder().encode(t),
            stdout: "pipe",
            stderr: "pipe",
          },
        );
        const [out, err, code] = await Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
          proc.exited,
        ]);
        expect({ code, out, err }).toEqual({ code: 0, out: "", err: "" });
      }
    },
  );
});
