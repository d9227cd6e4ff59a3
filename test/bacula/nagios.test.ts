// check's verdict (bacula/nagios.ts) for each state the README's Monitoring table names, on fixed
// facts: the exact status line, the performance data with its thresholds, the state, and that
// a known CRITICAL or WARNING outranks an UNKNOWN.
import { describe, expect, test } from "bun:test";
import type {
  MonitorFacts,
  MonitoredMagazine,
} from "../../src/bacula/monitor.ts";
import {
  type CheckThresholds,
  evaluateCheck,
  failedCheck,
} from "../../src/bacula/nagios.ts";

const NOW = new Date("2026-03-10T12:00:00.000Z");
const GiB = 1024 ** 3;
const T: CheckThresholds = {
  freeWarning: { percent: 10 },
  freeCritical: { percent: 5 },
  refreshWarningMinutes: 30,
  refreshCriticalMinutes: 1440,
  eventsWarningMinutes: 30,
};
const monday: MonitoredMagazine = {
  number: 1,
  uuid: "00000000-0000-4000-8000-000000000001",
  name: "Monday",
  label: "mc-mon",
  volumes: 10,
  attached: true,
  bay: 1,
  attachedAt: "2026-03-07T00:00:00.000Z",
  space: { availableBytes: 50 * GiB, usableBytes: 100 * GiB },
};
const tuesday: MonitoredMagazine = {
  number: 2,
  uuid: "00000000-0000-4000-8000-000000000002",
  name: "Tuesday",
  volumes: 10,
  attached: false,
  bay: 1,
  attachedAt: "2026-02-01T00:00:00.000Z",
  removedAt: "2026-03-07T00:00:00.000Z",
};
const facts = (over: Partial<MonitorFacts> = {}): MonitorFacts => ({
  changer: "mc",
  now: NOW,
  volumes: 20,
  magazines: [monday, tuesday],
  told: true,
  queuedEvents: 0,
  notify: true,
  storage: { waits: [] },
  ...over,
});
const line = (f: MonitorFacts) =>
  evaluateCheck(f, T).output.split("\n")[0] as string;
const status = (f: MonitorFacts) => line(f).split(" | ")[0];
const PERF_OK =
  "'volumes'=20;;;0 'attached_magazines'=1;;1:;0 'queued_events'=0;;;0 'waiting_jobs'=0;;;0 'magazine_1_free'=53687091200B;10737418240:;5368709120:;0;107374182400 'magazine_1_days_attached'=3.50;;;0 'magazine_2_days_absent'=3.50;;;0";

describe("check's verdict", () => {
  test("all well: OK, the attached disk with its days and space, and every figure", () => {
    const result = evaluateCheck(facts(), T);
    expect(result.state).toBe(0);
    expect(result.output).toBe(
      `MAGCHANGER OK - magazine 1 "Monday" attached 3.5 days, 50.0 GiB free; 20 volumes; no job waits | ${PERF_OK}
magazine 1 "Monday" (label mc-mon, UUID 00000000-0000-4000-8000-000000000001): in bay 1 for 3.5 days, 10 volumes, 50.0 GiB of 100.0 GiB free
magazine 2 "Tuesday" (UUID 00000000-0000-4000-8000-000000000002): in the drawer for 3.5 days, 10 volumes
`,
    );
  });

  test("a job waiting for a disk in the drawer is CRITICAL and names the disk", () => {
    const f = facts({
      storage: {
        waits: [
          {
            drive: 0,
            jobs: [{ jobid: 7, name: "restore" }],
            volume: "mc_0002_0003",
            magazine: { number: 2, uuid: tuesday.uuid, name: "Tuesday" },
            attached: false,
          },
        ],
      },
    });
    expect(evaluateCheck(f, T).state).toBe(2);
    expect(status(f)).toBe(
      'MAGCHANGER CRITICAL - restore JobId 7 on drive 0 waits for mc_0002_0003: attach magazine 2 "Tuesday"',
    );
    expect(line(f)).toContain("'waiting_jobs'=1;;;0");
  });

  test("a job waiting for any appendable volume (the disk is full) is CRITICAL", () => {
    const f = facts({
      storage: {
        waits: [
          {
            drive: 1,
            jobs: [{ jobid: 4, name: "backup" }],
            attached: false,
          },
        ],
      },
    });
    expect(evaluateCheck(f, T).state).toBe(2);
    expect(status(f)).toBe(
      "MAGCHANGER CRITICAL - backup JobId 4 on drive 1 waits for any appendable volume: no disk in a bay has a volume to write; attach one that has, or add volumes",
    );
  });

  test("a job waiting for a volume of no magazine is CRITICAL", () => {
    const f = facts({
      storage: {
        waits: [{ drive: 0, jobs: [], volume: "Vol-0007", attached: false }],
      },
    });
    expect(status(f)).toBe(
      "MAGCHANGER CRITICAL - a job on drive 0 waits for Vol-0007, which is no volume of this changer",
    );
  });

  test("a job waiting for a volume on an attached disk is a WARNING: refresh resumes it", () => {
    const f = facts({
      storage: {
        waits: [
          {
            drive: 0,
            jobs: [{ jobid: 9, name: "restore" }],
            volume: "mc_0001_0002",
            magazine: { number: 1, uuid: monday.uuid, name: "Monday" },
            attached: true,
          },
        ],
      },
    });
    expect(evaluateCheck(f, T).state).toBe(1);
    expect(status(f)).toBe(
      'MAGCHANGER WARNING - restore JobId 9 on drive 0 waits for mc_0001_0002 on magazine 1 "Monday", which is attached: the next refresh lets it go on',
    );
  });

  test("no magazine attached is CRITICAL; none at all says to init one", () => {
    const drawer = facts({ magazines: [tuesday] });
    expect(evaluateCheck(drawer, T).state).toBe(2);
    expect(status(drawer)).toBe(
      "MAGCHANGER CRITICAL - no magazine is attached (as of the last refresh): a backup has nowhere to go",
    );
    expect(line(drawer)).toContain("'attached_magazines'=0;;1:;0");
    expect(status(facts({ magazines: [], volumes: 0 }))).toBe(
      "MAGCHANGER CRITICAL - no magazine yet: prepare a disk with `magchanger magazine init`",
    );
  });

  test("free space under --free-warning is a WARNING, under --free-critical CRITICAL; sizes work as thresholds", () => {
    const withFree = (gib: number) =>
      facts({
        magazines: [
          {
            ...monday,
            space: { availableBytes: gib * GiB, usableBytes: 100 * GiB },
          },
          tuesday,
        ],
      });
    expect(evaluateCheck(withFree(8), T).state).toBe(1);
    expect(status(withFree(8))).toBe(
      'MAGCHANGER WARNING - magazine 1 "Monday" has 8.0 GiB of 100.0 GiB free',
    );
    expect(evaluateCheck(withFree(4), T).state).toBe(2);
    expect(evaluateCheck(withFree(10), T).state).toBe(0);
    const bytes = {
      ...T,
      freeWarning: { bytes: 60 * GiB },
      freeCritical: { bytes: GiB },
    };
    expect(evaluateCheck(withFree(50), bytes).state).toBe(1);
    expect(evaluateCheck(withFree(50), bytes).output).toContain(
      "'magazine_1_free'=53687091200B;64424509440:;1073741824:;0;107374182400",
    );
  });

  test("an attached disk autofs has unmounted: free space U, no threshold, no alarm", () => {
    const f = facts({
      magazines: [
        {
          ...monday,
          space: undefined,
          unmeasured:
            "bay 1: not mounted now (not measured: that would mount it)",
        },
        tuesday,
      ] as MonitoredMagazine[],
    });
    const result = evaluateCheck(f, T);
    expect(result.state).toBe(0);
    expect(result.output).toContain("'magazine_1_free'=U;;;0 ");
    expect(result.output).toContain(
      "in bay 1 for 3.5 days, 10 volumes (space: bay 1: not mounted now (not measured: that would mount it))",
    );
  });

  test("a refresh pending past --refresh-warning is a WARNING, past --refresh-critical CRITICAL, younger nothing", () => {
    const pending = (minutes: number) =>
      facts({
        refreshPendingSince: new Date(
          NOW.getTime() - minutes * 60_000,
        ).toISOString(),
      });
    expect(evaluateCheck(pending(5), T).state).toBe(0);
    expect(evaluateCheck(pending(31), T).state).toBe(1);
    expect(status(pending(31))).toBe(
      "MAGCHANGER WARNING - a Bacula update has been pending since 2026-03-10T11:29:00.000Z (it failed or hangs; the timer retries): see the log, or run `magchanger refresh`",
    );
    expect(evaluateCheck(pending(1441), T).state).toBe(2);
  });

  test("Bacula never told about existing volumes is a WARNING", () => {
    expect(status(facts({ told: false }))).toBe(
      "MAGCHANGER WARNING - Bacula was never told about the volumes: run `magchanger refresh`",
    );
  });

  test("undelivered events are a WARNING only with a [notify] command, and only once old", () => {
    const queued = (notify: boolean, minutes: number) =>
      facts({
        notify,
        queuedEvents: 3,
        oldestQueuedAt: new Date(NOW.getTime() - minutes * 60_000),
      });
    expect(status(queued(true, 45))).toBe(
      "MAGCHANGER WARNING - 3 event(s) not delivered, the oldest since 2026-03-10T11:15:00.000Z: the [notify] command fails (see the log)",
    );
    expect(evaluateCheck(queued(true, 10), T).state).toBe(0);
    expect(evaluateCheck(queued(false, 600), T).state).toBe(0);
    expect(line(queued(false, 600))).toContain("'queued_events'=3;;;0");
  });

  test("the storage daemon not answering is UNKNOWN, with waiting_jobs U; a known WARNING or CRITICAL outranks it", () => {
    const storage = { error: "bconsole exited with 1: no output" };
    const down = facts({ storage });
    expect(evaluateCheck(down, T).state).toBe(3);
    expect(status(down)).toBe(
      "MAGCHANGER UNKNOWN - cannot ask the storage daemon what it waits for: bconsole exited with 1: no output",
    );
    expect(line(down)).toContain("'waiting_jobs'=U;;;0");
    const worse = facts({ storage, told: false });
    expect(evaluateCheck(worse, T).state).toBe(1);
    expect(status(worse)).toBe(
      "MAGCHANGER WARNING - Bacula was never told about the volumes: run `magchanger refresh`; cannot ask the storage daemon what it waits for: bconsole exited with 1: no output",
    );
    expect(
      evaluateCheck(facts({ storage, magazines: [tuesday] }), T).state,
    ).toBe(2);
  });

  test("a waiting job leads the line, before other problems of its state", () => {
    const f = facts({
      magazines: [
        {
          ...monday,
          space: { availableBytes: GiB, usableBytes: 100 * GiB },
        },
        tuesday,
      ],
      storage: {
        waits: [
          { drive: 1, jobs: [{ jobid: 4, name: "backup" }], attached: false },
        ],
      },
    });
    expect(status(f)).toStartWith(
      "MAGCHANGER CRITICAL - backup JobId 4 on drive 1 waits for any appendable volume: ",
    );
    expect(status(f)).toEndWith(
      '; magazine 1 "Monday" has 1.0 GiB of 100.0 GiB free',
    );
  });

  test("a disk past a [rotation] limit is a WARNING naming it and the limit; the days' figures carry the limit as their threshold", () => {
    // Monday attached 3.5 days, Tuesday in the drawer 3.5 days (NOW).
    const attachedTooLong = facts({ rotation: { max_days_attached: 3 } });
    expect(evaluateCheck(attachedTooLong, T).state).toBe(1);
    expect(status(attachedTooLong)).toBe(
      'MAGCHANGER WARNING - magazine 1 "Monday" attached in bay 1 for 3.5 days ([rotation] max_days_attached = 3: swap in another disk, the offsite copy is getting old)',
    );
    expect(line(attachedTooLong)).toContain(
      "'magazine_1_days_attached'=3.50;3;;0 'magazine_2_days_absent'=3.50;;;0",
    );
    const absentTooLong = facts({
      rotation: { max_days_attached: 8, max_days_absent: 3 },
    });
    expect(evaluateCheck(absentTooLong, T).state).toBe(1);
    expect(status(absentTooLong)).toBe(
      'MAGCHANGER WARNING - magazine 2 "Tuesday" in the drawer for 3.5 days ([rotation] max_days_absent = 3: is it lost or forgotten?)',
    );
    expect(line(absentTooLong)).toContain(
      "'magazine_1_days_attached'=3.50;8;;0 'magazine_2_days_absent'=3.50;3;;0",
    );
    // Under the limits, or a stay whose start was never recorded: nothing to warn of.
    const within = facts({
      rotation: { max_days_attached: 4, max_days_absent: 4 },
    });
    expect(evaluateCheck(within, T).state).toBe(0);
    const { attachedAt: _, ...neverSeenArriving } = monday;
    expect(
      evaluateCheck(
        facts({
          rotation: { max_days_attached: 1 },
          magazines: [neverSeenArriving, tuesday],
        }),
        T,
      ).state,
    ).toBe(0);
    // Worse problems lead: a job standing still stays CRITICAL, the rotation follows it.
    const withWait = facts({
      rotation: { max_days_attached: 3 },
      storage: {
        waits: [
          { drive: 1, jobs: [{ jobid: 4, name: "backup" }], attached: false },
        ],
      },
    });
    expect(evaluateCheck(withWait, T).state).toBe(2);
    expect(status(withWait)).toEndWith(
      '; magazine 1 "Monday" attached in bay 1 for 3.5 days ([rotation] max_days_attached = 3: swap in another disk, the offsite copy is getting old)',
    );
  });

  test("--local: no waiting_jobs figure and no word on waits", () => {
    const { storage: _, ...local } = facts();
    expect(line(local as MonitorFacts)).not.toContain("waiting_jobs");
    expect(status(local as MonitorFacts)).toBe(
      'MAGCHANGER OK - magazine 1 "Monday" attached 3.5 days, 50.0 GiB free; 20 volumes',
    );
  });

  test("a name with a control character or a pipe cannot split the status line or start perfdata", () => {
    const f = facts({
      storage: {
        waits: [
          {
            drive: 0,
            jobs: [{ jobid: 1, name: "a|b\nc" }],
            volume: "X",
            attached: false,
          },
        ],
      },
    });
    const out = evaluateCheck(f, T).output;
    expect(out.split("\n")[0]).toStartWith(
      "MAGCHANGER CRITICAL - a/b\\nc JobId 1 on drive 0 waits for X, which is no volume of this changer | ",
    );
    expect(failedCheck(3, "x|y\nz").output).toBe(
      "MAGCHANGER UNKNOWN - x/y\\nz\n",
    );
  });
});
