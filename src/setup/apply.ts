// setup --write: check every piece first (a bad piece fails before anything is written), then
// install each one idempotently. A second run finds everything in place and changes nothing.
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { AppError, ConfigError } from "../errors.ts";
import { lookupGroup, lookupUser } from "../system/identity.ts";
import {
  checkNoPlantedLink,
  lstatOrUndefined,
  type Ownership,
} from "./files.ts";
import { underPrefix } from "../config/layout.ts";
import type { Owner, Piece, SetupPlan } from "./plan.ts";
import { type ApplyOptions, install, type Outcome } from "./install.ts";

export type { ApplyOptions, Outcome, OutcomeStatus } from "./install.ts";

function resolveOwner(owner: Owner, root: boolean): Ownership | undefined {
  if (!root) return undefined;
  const user = lookupUser(owner.user);
  if (!user)
    throw new ConfigError(
      `run-as user "${owner.user}" does not exist; install bacula-sd (it creates bacula) or set user = "..." in the config`,
    );
  const group = lookupGroup(owner.group);
  if (!group)
    throw new ConfigError(
      `run-as group "${owner.group}" does not exist; create it or set group = "..." in the config`,
    );
  return { uid: user.uid, gid: group.gid };
}

function kind(path: string): string | undefined {
  const stats = lstatOrUndefined(path);
  if (!stats) return undefined;
  if (stats.isSymbolicLink())
    return existsSync(path) && statSync(path).isDirectory()
      ? "dirlink"
      : "symlink";
  if (stats.isDirectory()) return "dir";
  if (stats.isFile()) return "file";
  return "other";
}

/** The refusals: each names the path and what to do, and comes before any write. */
function check(piece: Piece, path: string): void {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const k = kind(dir);
    if (k === "dir" || k === "dirlink") break;
    if (k !== undefined)
      throw new AppError(
        `cannot install ${path}: ${dir} exists and is not a directory; move it away`,
      );
    if (dir === dirname(dir)) break;
  }
  const k = kind(path);
  if (k === undefined) return;
  const wantDir = piece.kind === "dir";
  if (wantDir && k !== "dir" && k !== "dirlink")
    throw new AppError(
      `cannot create directory ${path}: something else exists there; move it away`,
    );
  if (!wantDir && (k === "dir" || k === "dirlink"))
    throw new AppError(
      `cannot install ${path} (${piece.what}): it is a directory; move it away`,
    );
  if (!wantDir && k === "other")
    throw new AppError(
      `cannot install ${path} (${piece.what}): it is a device, FIFO or socket; move it away`,
    );
  if (piece.kind === "keyfile" && k === "symlink" && !existsSync(path)) {
    throw new AppError(
      `key file ${path} is a dangling symlink; remove it or point luks.key_file at the key`,
    );
  }
}

export function preflight(
  plan: SetupPlan,
  options: ApplyOptions,
): Map<Piece, Ownership | undefined> {
  const owners = new Map<Piece, Ownership | undefined>();
  for (const piece of plan.pieces) {
    const path = underPrefix(options.prefix, piece.path);
    if (piece.kind !== "keyfile" || !existsSync(path)) check(piece, path);
    if (piece.kind === "dir" || piece.kind === "touch") {
      const owner = piece.owner
        ? resolveOwner(piece.owner, options.root)
        : undefined;
      if (owner) checkNoPlantedLink(path, piece.kind, piece.what);
      owners.set(piece, owner);
    }
    if (piece.kind === "file" && piece.group && options.root) {
      // The group may not exist (no Bacula yet): then the file stays root's alone.
      const group = lookupGroup(piece.group);
      owners.set(piece, { uid: 0, gid: group?.gid ?? 0 });
    }
  }
  return owners;
}

export function applyPlan(plan: SetupPlan, options: ApplyOptions): Outcome[] {
  const owners = preflight(plan, options);
  return plan.pieces.map((piece) => {
    const path = underPrefix(options.prefix, piece.path);
    const owner = owners.get(piece);
    const outcome = install(piece, path, owner, options);
    return { piece, path, ...outcome };
  });
}
