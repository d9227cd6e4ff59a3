// Power cuts: the guest runs a loop of the changer's state-writing operations while the host kills
// QEMU at a seeded moment; the same disks boot again. Each operation is announced on the serial
// console before it starts ("MAGVM-OP n kind"), which QEMU writes to a host file that survives
// the cut, so the test knows what was interrupted. What must hold after each boot is checked by
// the power-cut test of faults.test.ts.
import { expect } from "bun:test";
import { CONF, type Guest } from "./guest.ts";

/** The recording notifier: one line per call (event id, then the event), fsync'ed. */
export const NOTIFY_LOG = "/var/tmp/magvm-notified";
export const STAGE = "/var/tmp/magvm-stage";
/** While this file exists, the recording notifier sleeps the seconds it holds before recording. */
export const SLOW_NOTIFY = "/run/magvm-slow-notify";

const WORKLOAD = `#!/bin/bash
# Harness only (test/vm/power.ts): the changer's state writes, in a seeded order, until killed.
RANDOM=$1
conf=${CONF}
drive=/var/lib/magchanger/usbchanger1/drive0
op() { echo "MAGVM-OP $n $1" > /dev/ttyS0; }
for n in $(seq 1 100000); do
  case $((RANDOM % 7)) in
    0|1) s=$((1 + RANDOM % 4)); op "load-unload slot $s"
       magchanger changer $conf load $s $drive 0 >/dev/null 2>&1
       magchanger changer $conf unload $s $drive 0 >/dev/null 2>&1 ;;
    2) op "createvols"; magchanger magazine createvols -c $conf 1 1 >/dev/null 2>&1 ;;
    3) op "refresh"; magchanger refresh --force -c $conf >/dev/null 2>&1 ;;
    4) op "load-drawer-volume+deliver"
       magchanger changer $conf load 5 $drive 0 >/dev/null 2>&1
       magchanger refresh -c $conf >/dev/null 2>&1 ;;
    5) c=$((1 + RANDOM % 2)); op "setup --write staged c$c"
       magchanger setup -c /etc/magchanger/stage$c/usbchanger1.toml --prefix ${STAGE} --write >/dev/null 2>&1 ;;
    6) op "rename"; magchanger magazine rename -c $conf 1 "Monday$((RANDOM % 100))" >/dev/null 2>&1 ;;
  esac
done
`;

const NOTIFIER = `#!/bin/sh
# Harness only: record the event with its id, durably, and say so on the serial console.
echo "MAGVM-NOTIFY start $MAGCHANGER_EVENT_ID" > /dev/ttyS0
# A notifier that takes its time (a mail server slow to answer), while the test asks for it.
[ -r ${SLOW_NOTIFY} ] && sleep "$(head -c 8 ${SLOW_NOTIFY})"
{ printf '%s ' "$MAGCHANGER_EVENT_ID"; tr -d '\\n'; echo; } >> ${NOTIFY_LOG}
sync ${NOTIFY_LOG}
echo "MAGVM-NOTIFY end $MAGCHANGER_EVENT_ID" > /dev/ttyS0
`;

/** What the recording notifier got, in order: each call's event id and the event it read. */
export async function notifierRecord(
  guest: Guest,
): Promise<{ id: string; event: Record<string, unknown> }[]> {
  const text = (await guest.vm.must(["cat", NOTIFY_LOG])).stdout;
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const brace = l.indexOf("{");
      return {
        id: l.split(" ")[0] as string,
        event:
          brace < 0
            ? {}
            : (JSON.parse(l.slice(brace)) as Record<string, unknown>),
      };
    });
}

/** Installs the workload, the recording notifier and two configs for staged setup runs. */
export async function installWorkload(guest: Guest): Promise<void> {
  await guest.vm.writeFile("/usr/local/bin/magvm-workload", WORKLOAD, "0755");
  await guest.vm.writeFile("/usr/local/bin/magvm-notify", NOTIFIER, "0755");
  // The notifier runs as the run-as user: let it mark its start and end on the console too.
  await guest.vm.mustSh(`chmod 0666 /dev/ttyS0
install -o bacula -g bacula -m 0644 /dev/null ${NOTIFY_LOG}
grep -q '^\\[notify\\]' ${CONF} || printf '\\n[notify]\\ncommand = ["/usr/local/bin/magvm-notify"]\\n' >> ${CONF}
install -d -m 0755 ${STAGE}
for c in 1 2; do
  install -d -m 0755 /etc/magchanger/stage$c
  sed "s/^drives = .*/drives = $((c + 1))/" ${CONF} > /etc/magchanger/stage$c/usbchanger1.toml
  chmod 0644 /etc/magchanger/stage$c/usbchanger1.toml
done
sync`);
}

export async function startWorkload(guest: Guest, seed: number): Promise<void> {
  // setsid, and nothing of the agent's pipes kept: it outlives this call; the cut ends it.
  await guest.vm.mustSh(
    `setsid -f /usr/local/bin/magvm-workload ${seed % 32768} </dev/null >/dev/null 2>&1`,
  );
}

/**
 * The last operation the serial console saw begin, and the last notifier it saw start: the one
 * delivery the cut may have caught (one runs at a time, under events/deliver.lock), either while
 * its notifier ran or before its move to sent/ was on the disk. That event may go twice (at least
 * once across a restart, README); every other exactly once.
 */
export function interrupted(console: string): {
  op: string;
  ops: number;
  notifying?: string;
  /** The notifier of `notifying` was still running (it had not said "end"). */
  midRun?: boolean;
} {
  const ops = [...console.matchAll(/MAGVM-OP (\d+) ([^\r\n]*)/g)];
  const last = ops.at(-1);
  const notifying = [...console.matchAll(/MAGVM-NOTIFY start (\S+)/g)].at(
    -1,
  )?.[1];
  const midRun =
    notifying !== undefined &&
    !console.includes(`MAGVM-NOTIFY end ${notifying}`);
  return {
    op: last ? `#${last[1]} ${last[2]}` : "(none yet)",
    ops: ops.length,
    ...(notifying ? { notifying, midRun } : {}),
  };
}

export const REGISTRY = "/var/lib/magchanger/usbchanger1/slots";

/** slot -> barcode of every volume the registry holds (attached or in the drawer). */
export function registryMap(text: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const line of text.split("\n")) {
    const m = /^S (\d+) \S+ (\S+)$/.exec(line);
    if (m) map.set(Number(m[1]), m[2] as string);
  }
  return map;
}

/**
 * Every slot a volume had before keeps that volume (none lost, none renumbered); new slots may
 * have come (createvols).
 */
export function expectSlotsKept(
  before: Map<number, string>,
  after: Map<number, string>,
): void {
  for (const [slot, barcode] of before)
    expect(after.get(slot), `slot ${slot}`).toBe(barcode);
  const seen = new Map<string, number>();
  for (const [slot, barcode] of after) {
    expect(seen.get(barcode), `${barcode} in two slots`).toBeUndefined();
    seen.set(barcode, slot);
  }
}
