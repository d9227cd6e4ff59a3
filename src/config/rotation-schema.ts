// [rotation]: when a disk has been attached, or away, long enough to tell someone (events
// magazine-attached-too-long and magazine-absent-too-long). It only tells: nothing blocks, so a
// disk left in over the holidays still takes every backup (the seed's fourth requirement).
import * as z from "zod/mini";

export function buildRotationSchema() {
  const days = z.int().check(z.minimum(1), z.maximum(3650));
  return z.strictObject({
    max_days_attached: z.optional(days),
    max_days_absent: z.optional(days),
  });
}
