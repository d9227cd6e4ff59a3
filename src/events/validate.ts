// What an event file must hold to be an event. The run-as user owns WORK_DIR/events, so a file
// there may be planted: its kind goes into the notifier's argv ({kind}) and environment
// (MAGCHANGER_EVENT_KIND) as it is, and the other fields into the summary. Only the known kinds
// (EVENT_KINDS), with each field of the type summarizeEvent expects, are events; the strings
// are escaped where they are shown (printable() in notifier.ts and the log).
import { type ChangerEvent, EVENT_KINDS, type EventKind } from "./types.ts";

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === "string";
const isCount = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function isMagazine(v: unknown): boolean {
  if (!v || typeof v !== "object") return false;
  const m = v as Fields;
  return (
    isCount(m.number) &&
    isString(m.uuid) &&
    (m.name === undefined || isString(m.name)) &&
    (m.label === undefined || isString(m.label))
  );
}

/** The fields each kind needs, besides kind and at, with their checks. */
const FIELDS: Record<EventKind, Record<string, (v: unknown) => boolean>> = {
  "volume-needed": { volume: isString, slot: isCount, magazine: isMagazine },
  "magazine-attached": { magazine: isMagazine, bay: isCount },
  "magazine-removed": { magazine: isMagazine, bay: isCount },
  "unknown-disk": { bay: isCount, detail: isString },
  "state-write-failed": { path: isString, error: isString },
  "refresh-failed": { error: isString },
  "magazine-nearly-full": {
    magazine: isMagazine,
    freeBytes: isCount,
    totalBytes: isCount,
  },
};

/** value as an event when it is one of the known kinds with well-typed fields, else undefined. */
export function asChangerEvent(value: unknown): ChangerEvent | undefined {
  if (!value || typeof value !== "object") return undefined;
  const fields = value as Fields;
  const kind = EVENT_KINDS.find((k) => k === fields.kind);
  if (!kind || !isString(fields.at)) return undefined;
  for (const [name, check] of Object.entries(FIELDS[kind]))
    if (!check(fields[name])) return undefined;
  return value as ChangerEvent;
}
