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

const isOptional =
  (check: (v: unknown) => boolean) =>
  (v: unknown): boolean =>
    v === undefined || check(v);

const isListOf =
  (check: (v: unknown) => boolean, max: number) =>
  (v: unknown): boolean =>
    Array.isArray(v) && v.length <= max && v.every(check);

function isJob(v: unknown): boolean {
  if (!v || typeof v !== "object") return false;
  const j = v as Fields;
  return isCount(j.jobid) && isString(j.name);
}

function isSpaceMagazine(v: unknown): boolean {
  if (!v || typeof v !== "object") return false;
  const m = v as Fields;
  return (
    isMagazine(m.magazine) &&
    [m.appendable, m.recyclable, m.purged, m.unlabeled, m.reusableBytes].every(
      isCount,
    ) &&
    isListOf(isString, 64)(m.volumes) &&
    isOptional(isCount)(m.freeBytes) &&
    isOptional(isString)(m.freeAt)
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
  "space-needed": {
    pool: isString,
    jobs: isListOf(isJob, 64),
    magazines: isListOf(isSpaceMagazine, 64),
  },
  "magazine-attached-too-long": {
    magazine: isMagazine,
    bay: isCount,
    since: isString,
    days: isCount,
    limitDays: isCount,
  },
  "disk-refused": { device: isString, reason: isString },
  "magazine-full": {
    volume: isString,
    magazine: isMagazine,
    jobs: isListOf(isJob, 64),
    detail: isString,
  },
  "volume-damaged": {
    volume: isString,
    magazine: isMagazine,
    cause: (v) => v === "pulled-in-use" || v === "short",
    jobs: isListOf(isJob, 64),
    fileBytes: isOptional(isCount),
    catalogBytes: isOptional(isCount),
  },
  "magazine-absent-too-long": {
    magazine: isMagazine,
    since: isString,
    days: isCount,
    limitDays: isCount,
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
