// What each [rotation] key allows, for config error messages: kept apart from the zod schema
// (rotation-schema.ts) so that schema-messages.ts, which the protocol path loads, loads no zod.
const DAYS = "a whole number of days 1..3650";

export const ROTATION_ALLOWED: Record<string, string> = {
  rotation: "a [rotation] table",
  "rotation.max_days_attached": DAYS,
  "rotation.max_days_absent": DAYS,
};
