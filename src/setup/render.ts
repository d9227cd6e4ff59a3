// What setup prints: every piece in full (the dry run), or what --write did to each.
import type { Outcome } from "./apply.ts";
import { underPrefix } from "../config/layout.ts";
import type { Piece, SetupPlan } from "./plan.ts";

const mode = (m: number) => m.toString(8).padStart(4, "0");

function describe(piece: Piece): string {
  switch (piece.kind) {
    case "file":
      return `file, mode ${mode(piece.mode)}${piece.group ? `, group ${piece.group}` : ""}`;
    case "symlink":
      return `symlink -> ${piece.target}`;
    case "dir":
      return `directory, mode ${mode(piece.mode)}${piece.owner ? `, owner ${piece.owner.user}:${piece.owner.group}` : ""}, created when missing${piece.claim ? " (an existing one gets this owner)" : ""}`;
    case "touch":
      return `empty file, mode ${mode(piece.mode)}, owner ${piece.owner.user}:${piece.owner.group}, created when missing`;
    case "include":
      return "append this line when the file exists and lacks it";
    case "keyfile":
      return `${piece.bytes} random bytes, mode 0400 root:root, created only when missing`;
  }
}

export function renderPlan(
  plan: SetupPlan,
  header: string[],
  prefix: string,
): string {
  const out: string[] = header.map((line) => `# ${line}`);
  out.push(
    "# Nothing was written. Run it again with --write (as root) to install the pieces below.",
    "",
  );
  for (const piece of plan.pieces) {
    out.push(
      `#### ${underPrefix(prefix, piece.path)}: ${piece.what} (${describe(piece)})`,
    );
    if (piece.kind === "file")
      out.push((piece.shown ?? piece.content).trimEnd());
    else if (piece.kind === "include") out.push(piece.comment, piece.line);
    out.push("");
  }
  out.push("# Then:", ...plan.notes.map((note) => `#  - ${note}`));
  return `${out.join("\n")}\n`;
}

export function renderOutcomes(outcomes: Outcome[], notes: string[]): string {
  const out: string[] = [];
  for (const o of outcomes) {
    const extra = [
      o.detail,
      o.backup ? `previous version kept as ${o.backup}` : undefined,
    ]
      .filter(Boolean)
      .join("; ");
    out.push(
      `${o.status.padEnd(9)} ${o.path}  (${o.piece.what})${extra ? `: ${extra}` : ""}`,
    );
  }
  const changed = outcomes.filter(
    (o) => o.status === "created" || o.status === "changed",
  ).length;
  out.push(
    changed
      ? `${changed} piece(s) installed or updated.`
      : "Everything was already in place; nothing changed.",
  );
  out.push("Then:", ...notes.map((note) => `  - ${note}`));
  return `${out.join("\n")}\n`;
}
