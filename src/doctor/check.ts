// One finding of doctor: what was checked, what was found and, unless it is fine, the fix.
export type Status = "ok" | "warn" | "fail";

export interface Check {
  status: Status;
  /** What was checked, e.g. "work dir" or "bay 1". */
  name: string;
  message: string;
  /** The exact next step; absent when the check passed. */
  fix?: string;
}

export const ok = (name: string, message: string): Check => ({
  status: "ok",
  name,
  message,
});
export const warn = (name: string, message: string, fix: string): Check => ({
  status: "warn",
  name,
  message,
  fix,
});
export const fail = (name: string, message: string, fix: string): Check => ({
  status: "fail",
  name,
  message,
  fix,
});
