// doctor's output: one line per check with its fix below it, or JSON for scripts.
import { printable } from "../text.ts";
import type { Check } from "./check.ts";

const LABEL = { ok: "OK  ", warn: "WARN", fail: "FAIL" } as const;

export function formatChecks(checks: Check[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    // Messages carry names from disks and files: one line each, no control character raw.
    lines.push(printable(`${LABEL[c.status]}  ${c.name}: ${c.message}`));
    if (c.fix) lines.push(printable(`      fix: ${c.fix}`));
  }
  lines.push(summary(checks));
  return `${lines.join("\n")}\n`;
}

export function summary(checks: Check[]): string {
  const failed = checks.filter((c) => c.status === "fail").length;
  const warned = checks.filter((c) => c.status === "warn").length;
  if (!failed && !warned) return `All ${checks.length} checks passed.`;
  return `${failed} failed, ${warned} warning(s), ${checks.length - failed - warned} ok.`;
}

/** What `doctor --json` prints (fd-write.ts's writeJson escapes it). */
export function checksReport(checks: Check[]) {
  const failed = checks.filter((c) => c.status === "fail").length;
  const warnings = checks.filter((c) => c.status === "warn").length;
  return { ok: failed === 0, failed, warnings, checks };
}
