import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { currentBootId, deliverEvents } from "../../src/events/deliver.ts";
import {
  enqueueEvent,
  eventsDir,
  pendingEventIds,
  readPendingEvents,
} from "../../src/events/queue.ts";
import { runNotifier } from "../../src/events/notifier.ts";
import type { ChangerEvent } from "../../src/events/types.ts";
import { memoryLog } from "../helpers/log.ts";
import { makeTempDir } from "../helpers/tmp.ts";
import { eventsConfig, writeNotifier } from "./fixtures.ts";

const dirs: string[] = [];
const children: Bun.Subprocess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = makeTempDir("events");
  dirs.push(dir);
  const workDir = join(dir, "work");
  mkdirSync(workDir);
  const notifier = writeNotifier(dir);
  const command = [notifier.path, notifier.record, notifier.gate];
  return {
    dir,
    workDir,
    notifier,
    command,
    config: eventsConfig(workDir, command),
  };
}

const magazine = { number: 2, name: "Thursday", uuid: "0b7f-1234" };
function volumeNeeded(volume: string): ChangerEvent {
  return {
    kind: "volume-needed",
    volume,
    slot: 3,
    magazine,
    at: "2026-12-02T00:00:00.000Z",
  };
}

/** Queues one volume-needed event per volume, oldest first; their ids. */
function queueVolumes(workDir: string, ...volumes: string[]): string[] {
  return volumes.map((v) => enqueueEvent(workDir, volumeNeeded(v)) as string);
}

function recorded(record: string): string[] {
  return existsSync(record)
    ? readFileSync(record, "utf8").trimEnd().split("\n")
    : [];
}

/** Pids of the processes whose command line names path. */
function processesWith(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(path))
        pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

const running = (path: string) => processesWith(path).length > 0;

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await Bun.sleep(10);
  if (!done()) throw new Error(`gave up waiting for ${what}`);
}

test("enqueued events are delivered once each, oldest first, with the JSON on stdin and the summary in the environment", async () => {
  const { workDir, notifier, config } = setup();
  const ids = queueVolumes(workDir, "v1", "v2", "v3");
  expect(pendingEventIds(workDir)).toEqual(ids);
  expect(
    readPendingEvents(workDir).map(
      (e) => (e.event as { volume: string }).volume,
    ),
  ).toEqual(["v1", "v2", "v3"]);
  const log = memoryLog();
  expect(await deliverEvents(config, log)).toEqual({
    delivered: 3,
    pending: 0,
  });
  const lines = recorded(notifier.record);
  expect(lines).toHaveLength(3);
  expect(lines[0]).toBe(
    `${ids[0]} volume-needed evtest: Bacula needs volume v1 (slot 3): attach magazine 2 "Thursday" (UUID 0b7f-1234) ${JSON.stringify(volumeNeeded("v1"))}`,
  );
  expect(lines.map((l) => l.split(" ")[0])).toEqual(ids as string[]);
  expect(pendingEventIds(workDir)).toEqual([]);
  expect(await deliverEvents(config, log)).toEqual({
    delivered: 0,
    pending: 0,
  });
  expect(recorded(notifier.record)).toHaveLength(3);
});

test("a failing notifier keeps the event and every later one queued, in order, and the next delivery retries it", async () => {
  const { workDir, notifier, config } = setup();
  const ids = queueVolumes(workDir, "v1", "v2");
  writeFileSync(join(notifier.gate, "fail"), "");
  const log = memoryLog();
  const failed = await deliverEvents(config, log);
  expect(failed.delivered).toBe(0);
  expect(failed.pending).toBe(2);
  expect(failed.stopped).toBe(
    `the notifier failed: ${notifier.path} exited with status 3: mail: no route to host`,
  );
  expect(
    log.lines.some((l) =>
      l.startsWith(`error: event ${ids[0]}: the notifier failed (attempt 1)`),
    ),
  ).toBe(true);
  expect(pendingEventIds(workDir)).toEqual(ids as string[]);
  rmSync(join(notifier.gate, "fail"));
  expect(await deliverEvents(config, log)).toEqual({
    delivered: 2,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual(
    ids as string[],
  );
});

test("a notifier that outlives notify.timeout is stopped and the event retried", async () => {
  const { workDir, notifier, command } = setup();
  const config = eventsConfig(workDir, command, 0.5);
  enqueueEvent(workDir, volumeNeeded("v1"));
  writeFileSync(join(notifier.gate, "block"), "");
  Bun.spawnSync(["mkfifo", join(notifier.gate, "gate")]);
  const outcome = await deliverEvents(config, memoryLog());
  expect(outcome.stopped).toBe(
    `the notifier failed: ${notifier.path} did not finish within notify.timeout (0.5 s)`,
  );
  expect(outcome.pending).toBe(1);
  expect(recorded(notifier.record)).toEqual([]);
  // What the stopped notifier had started (its `cat` on the gate, as a mail's sendmail) is
  // stopped with it: left running, it could still send the event that the retry sends again.
  const gate = join(notifier.gate, "gate");
  try {
    await until("the notifier's child to be stopped", () => !running(gate));
  } finally {
    for (const pid of processesWith(gate)) process.kill(pid, "SIGKILL");
  }
});

test("without a [notify] command events stay queued and nothing runs", async () => {
  const { workDir } = setup();
  enqueueEvent(workDir, volumeNeeded("v1"));
  const config = eventsConfig(workDir, []);
  (config as { notify?: unknown }).notify = undefined;
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 0,
    pending: 1,
    stopped: "no [notify] command is set",
  });
});

test("enqueueEvent never throws: an unwritable work dir is logged and the event dropped", () => {
  const { workDir } = setup();
  writeFileSync(eventsDir(workDir), "not a directory");
  const log = memoryLog();
  expect(enqueueEvent(workDir, volumeNeeded("v1"), log)).toBeUndefined();
  expect(log.lines).toEqual([
    `error: cannot queue the volume-needed event in ${eventsDir(workDir)}: ${eventsDir(workDir)} is not a directory (not followed); remove it`,
  ]);
});

/**
 * A world with a volume-needed event queued per volume, and a delivering process
 * (deliver-child.ts) whose notifier for the first has started and is held at its gate (a FIFO:
 * write to it, after removing "block", to let it go on).
 */
async function deliveringChild(...volumes: string[]) {
  const world = setup();
  const { workDir, notifier, command } = world;
  const ids = queueVolumes(workDir, ...volumes);
  writeFileSync(join(notifier.gate, "block"), "");
  const gate = join(notifier.gate, "gate");
  Bun.spawnSync(["mkfifo", gate]);
  const child = Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, "deliver-child.ts"),
      workDir,
      ...command,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  children.push(child);
  const started = join(notifier.gate, `started-${ids[0]}`);
  await until("the notifier to start", () => existsSync(started));
  return { ...world, ids, gate, child, started };
}

test("kill -9 of the delivering process while its notifier runs: that event is delivered exactly once and the rest follow in order", async () => {
  const { workDir, notifier, config, ids, gate, child, started } =
    await deliveringChild("v1", "v2", "v3");
  child.kill("SIGKILL");
  expect(await child.exited).not.toBe(0);
  expect(child.signalCode).toBe("SIGKILL");

  // The orphaned notifier still runs: a new delivery waits for it and delivers nothing.
  const log = memoryLog();
  const waiting = await deliverEvents(config, log);
  expect(waiting).toEqual({
    delivered: 0,
    pending: 3,
    stopped: `the notifier started for event ${ids[0]} by an earlier delivery is still running`,
  });
  expect(recorded(notifier.record)).toEqual([]);

  // Let it finish, then deliver the rest: the first event is not sent again.
  rmSync(join(notifier.gate, "block"));
  writeFileSync(gate, "go\n");
  await until(
    "the orphaned notifier to record",
    () => recorded(notifier.record).length === 1,
  );
  const pid = Number(readFileSync(started, "utf8"));
  await until(
    "the orphaned notifier to exit",
    () =>
      !existsSync(`/proc/${pid}`) ||
      readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "),
  );
  expect(await deliverEvents(config, log)).toEqual({
    delivered: 3,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual(ids);
  expect(
    log.lines.some((l) =>
      l.includes(`event ${ids[0]}: its delivery was interrupted`),
    ),
  ).toBe(true);
  expect(
    readdirSync(eventsDir(workDir)).filter(
      (n) => n !== "sent" && n !== "deliver.lock",
    ),
  ).toEqual([]);
});

test("SIGTERM of the delivering process while its notifier runs (systemd's stop of the refresh unit): it waits for the notifier, records its event as sent, leaves the rest queued and exits 143", async () => {
  const { workDir, notifier, config, ids, gate, child, started } =
    await deliveringChild("v1", "v2");
  const notifierPid = Number(readFileSync(started, "utf8"));
  // systemd (KillMode=mixed) signals the refresh alone, and SIGKILLs what is left of the unit
  // once it has exited: had it exited now, the notifier would die before it did its work, and the
  // next delivery would count the event as delivered.
  child.kill("SIGTERM");
  await Bun.sleep(500);
  expect(child.signalCode).toBeNull();
  expect(child.exitCode).toBeNull();
  rmSync(join(notifier.gate, "block"));
  writeFileSync(gate, "go\n");
  await child.exited;
  // What systemd does next: SIGKILL to whatever of the unit still runs.
  try {
    process.kill(-notifierPid, "SIGKILL");
  } catch {} // ESRCH: nothing left, as it should be
  expect(child.signalCode).toBeNull();
  expect(child.exitCode).toBe(143);
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([
    ids[0],
  ]);
  expect(pendingEventIds(workDir)).toEqual([ids[1] as string]);
  expect(readdirSync(join(eventsDir(workDir), "sent"))).toEqual([
    `${ids[0]}.json`,
  ]);
  expect(processesWith(gate)).toEqual([]);
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 1,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual(ids);
});

test("kill -9 between recording an attempt and starting the notifier: the event is delivered (once) by the next delivery", async () => {
  const { workDir, notifier, config } = setup();
  const id = enqueueEvent(workDir, volumeNeeded("v1")) as string;
  // What deliver.ts leaves when killed right after writing the attempt: "starting", and no
  // .running file (only the notifier's start makes one).
  writeFileSync(
    join(eventsDir(workDir), `${id}.attempt`),
    `${JSON.stringify({ state: "starting", startedAt: Date.now(), failures: 0, bootId: currentBootId() })}\n`,
  );
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 1,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([id]);
});

test("kill -9 after the notifier started but before its pid was recorded: once it has ended, the event is not delivered again", async () => {
  const { workDir, notifier, config } = setup();
  const [first, second] = queueVolumes(workDir, "v1", "v2");
  // What a delivery killed between starting the notifier and recording its pid leaves: the
  // attempt still "starting", and the .running file the started notifier's lock is on, free
  // again because the notifier (its only holder) has ended. It did its work: not again.
  writeFileSync(
    join(eventsDir(workDir), `${first}.attempt`),
    `${JSON.stringify({ state: "starting", startedAt: Date.now(), failures: 0, bootId: currentBootId() })}\n`,
  );
  writeFileSync(join(eventsDir(workDir), `${first}.running`), "");
  const log = memoryLog();
  expect(await deliverEvents(config, log)).toEqual({
    delivered: 2,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([
    second,
  ]);
  expect(
    log.lines.some((l) =>
      l.includes(`event ${first}: its delivery was interrupted`),
    ),
  ).toBe(true);
});

test("kill -9 after the notifier ended but before the event was moved to sent/: it is not delivered again", async () => {
  const { workDir, notifier, config } = setup();
  const [first, second] = queueVolumes(workDir, "v1", "v2");
  // What deliver.ts leaves when killed after the notifier (pid recorded) exited: "running",
  // the lock free because its only holder, the notifier, is gone.
  writeFileSync(
    join(eventsDir(workDir), `${first}.attempt`),
    `${JSON.stringify({ state: "running", startedAt: Date.now(), failures: 0, pid: 1, bootId: currentBootId() })}\n`,
  );
  writeFileSync(join(eventsDir(workDir), `${first}.running`), "");
  chmodSync(join(eventsDir(workDir), `${first}.running`), 0o600);
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 2,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([
    second,
  ]);
});

test("a power cut while the notifier ran (its attempt is an earlier boot's): the event is delivered again, never counted as sent", async () => {
  const { workDir, notifier, config } = setup();
  const [first, second] = queueVolumes(workDir, "v1", "v2");
  // What a power cut leaves while the notifier ran: "running" and ID.running, whose lock no one
  // holds after the reboot. Whether the notifier did its work died with the machine: the event
  // goes again (the notifier can tell by MAGCHANGER_EVENT_ID), rather than be lost. A record
  // with no boot id (an older build's) is treated the same way.
  for (const bootId of ["00000000-0000-4000-8000-000000000000", undefined]) {
    writeFileSync(
      join(eventsDir(workDir), `${first}.attempt`),
      `${JSON.stringify({ state: "running", startedAt: Date.now(), failures: 0, pid: 1, ...(bootId ? { bootId } : {}) })}\n`,
    );
    writeFileSync(join(eventsDir(workDir), `${first}.running`), "");
    if (!existsSync(join(eventsDir(workDir), `${first}.json`)))
      writeFileSync(
        join(eventsDir(workDir), `${first}.json`),
        readFileSync(join(eventsDir(workDir), "sent", `${first}.json`)),
      );
    const log = memoryLog();
    await deliverEvents(config, log);
    expect(
      log.lines.some((l) =>
        l.includes(
          bootId
            ? `event ${first}: the machine restarted while its notifier ran`
            : "no boot id tells whether the machine restarted since",
        ),
      ),
      log.lines.join("\n"),
    ).toBe(true);
  }
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([
    first,
    second,
    first,
  ]);
  expect(pendingEventIds(workDir)).toEqual([]);
});

test("a failure to record the notifier's pid (a full work dir) does not abandon the notifier: it is waited for and its outcome counts", async () => {
  const { workDir, notifier, config } = setup();
  const event = volumeNeeded("v1");
  const id = enqueueEvent(workDir, event) as string;
  // Left to itself the notifier would be killed with the refresh unit half-way, and the next
  // delivery, finding ID.running free, would count it as sent.
  const result = await runNotifier(
    config,
    event,
    id,
    join(eventsDir(workDir), `${id}.running`),
    () => {
      throw new Error("ENOSPC: no space left on device, write");
    },
  );
  expect(result).toEqual({
    ok: true,
    recordError: "ENOSPC: no space left on device, write",
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([id]);
});

test("a failed notifier whose failure cannot be recorded (a full work dir) is retried by the next delivery, never counted as sent", async () => {
  const { dir, workDir, notifier, config } = setup();
  const [first, second] = queueVolumes(workDir, "v1", "v2");
  // A mail command that fails once its gate opens (/var full: no spool for it either).
  const failing = join(dir, "failing.sh");
  const gate = join(dir, "failing-gate");
  Bun.spawnSync(["mkfifo", gate]);
  writeFileSync(
    failing,
    `#!/bin/sh\necho $$ > "${gate}.started"\ncat "${gate}" > /dev/null\necho "mail: no space in the spool" >&2\nexit 3\n`,
  );
  chmodSync(failing, 0o755);
  const child = Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, "deliver-child.ts"),
      workDir,
      failing,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  children.push(child);
  const attempt = join(eventsDir(workDir), `${first}.attempt`);
  await until(
    "the failing notifier to start and its pid to be recorded",
    () =>
      existsSync(`${gate}.started`) &&
      readFileSync(attempt, "utf8").includes('"state":"running"'),
  );
  // The delivering process's next atomic writes cannot be made: what ENOSPC does to the attempt
  // record of the failure ("starting" and "running" were its writes 1 and 2).
  for (let n = 3; n <= 40; n++)
    mkdirSync(
      join(eventsDir(workDir), `.${first}.attempt.tmp-${child.pid}-${n}`),
    );
  writeFileSync(gate, "go\n");
  expect(await child.exited).not.toBe(0);
  for (const name of readdirSync(eventsDir(workDir)))
    if (name.includes(".tmp-"))
      rmSync(join(eventsDir(workDir), name), { recursive: true });
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 2,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([
    first,
    second,
  ]);
});

test("a notifier still running is waited for even when its attempt names no boot, or another: its lock proves this boot", async () => {
  const { workDir, notifier, config, ids, gate, child } = await deliveringChild(
    "v1",
    "v2",
  );
  child.kill("SIGKILL");
  await child.exited;
  const attempt = join(eventsDir(workDir), `${ids[0]}.attempt`);
  for (const bootId of ["00000000-0000-4000-8000-000000000000", undefined]) {
    // What an older build wrote (no boot id), or a record from a host whose boot id changed.
    writeFileSync(
      attempt,
      `${JSON.stringify({ state: "running", startedAt: Date.now(), failures: 0, pid: 1, ...(bootId ? { bootId } : {}) })}\n`,
    );
    expect(await deliverEvents(config, memoryLog())).toEqual({
      delivered: 0,
      pending: 2,
      stopped: `the notifier started for event ${ids[0]} by an earlier delivery is still running`,
    });
  }
  rmSync(join(notifier.gate, "block"));
  writeFileSync(gate, "go\n");
  await until(
    "the orphaned notifier to record",
    () => recorded(notifier.record).length === 1,
  );
  await until(
    "its lock to be free",
    () =>
      Bun.spawnSync([
        "flock",
        "--nonblock",
        join(eventsDir(workDir), `${ids[0]}.running`),
        "true",
      ]).exitCode === 0,
  );
  await deliverEvents(config, memoryLog());
  // Ended: whether it did its work cannot be told without this boot's id, so it went again.
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([
    ids[0],
    ids[0],
    ids[1],
  ]);
});

test("{summary} and {kind} in a notify argument become the event's, as one argument each (mail -s)", async () => {
  const { dir, workDir } = setup();
  const args = join(dir, "args");
  const script = join(dir, "argv.sh");
  writeFileSync(
    script,
    `#!/bin/sh\ncat > /dev/null\nfor a in "$@"; do printf '[%s]' "$a"; done >> ${args}\necho >> ${args}\n`,
  );
  chmodSync(script, 0o755);
  enqueueEvent(workDir, volumeNeeded("v1; rm -rf /"));
  const config = eventsConfig(workDir, [
    script,
    "-s",
    "magchanger: {summary}",
    "{kind}",
    "root",
  ]);
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 1,
    pending: 0,
  });
  expect(readFileSync(args, "utf8")).toBe(
    '[-s][magchanger: evtest: Bacula needs volume v1; rm -rf / (slot 3): attach magazine 2 "Thursday" (UUID 0b7f-1234)][volume-needed][root]\n',
  );
});

test("kill -9 while an attempt was being written: its temp file is removed by the next delivery, the event sent once", async () => {
  const { workDir, notifier, config } = setup();
  const id = enqueueEvent(workDir, volumeNeeded("v1")) as string;
  const events = eventsDir(workDir);
  // What writeFileAtomic leaves when its writer dies before the rename (attempts are written
  // only under deliver.lock, so one found by the lock's holder is a dead delivery's).
  const temp = join(events, `.${id}.attempt.tmp-2147483-1`);
  writeFileSync(temp, '{"state":"run');
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 1,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([id]);
  expect(readdirSync(events).sort()).toEqual(["deliver.lock", "sent"]);
});

test("kill -9 after the event moved to sent/ but before its attempt file went: the leftovers are removed, nothing is sent again", async () => {
  const { workDir, notifier, config } = setup();
  const [first, second] = queueVolumes(workDir, "v1", "v2");
  const events = eventsDir(workDir);
  mkdirSync(join(events, "sent"));
  // What markSent leaves when killed between its rename and its unlinks.
  Bun.spawnSync([
    "mv",
    join(events, `${first}.json`),
    join(events, "sent", `${first}.json`),
  ]);
  writeFileSync(
    join(events, `${first}.attempt`),
    `${JSON.stringify({ state: "running", startedAt: Date.now(), failures: 0, pid: 1, bootId: currentBootId() })}\n`,
  );
  writeFileSync(join(events, `${first}.running`), "");
  expect(await deliverEvents(config, memoryLog())).toEqual({
    delivered: 1,
    pending: 0,
  });
  expect(recorded(notifier.record).map((l) => l.split(" ")[0])).toEqual([
    second,
  ]);
  expect(readdirSync(events).sort()).toEqual(["deliver.lock", "sent"]);
});
