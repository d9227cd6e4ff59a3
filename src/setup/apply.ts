// setup --write: check every piece first (a bad piece fails before anything is written), then
// install each one idempotently. A second run finds everything in place and changes nothing.
import { randomBytes } from "node:crypto";
import {
  existsSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import { AppError, ConfigError, describeErrno } from "../errors.ts";
import { replaceSymlink } from "../state/atomic.ts";
import { readTextBounded } from "../state/safe-fs.ts";
import { lookupGroup, lookupUser } from "../system/identity.ts";
import {
  backup,
  checkNoPlantedLink,
  chmodIfNeeded,
  chownIfNeeded,
  lstatOrUndefined,
  makeDir,
  makeOwnedDir,
  type Ownership,
  touchOwned,
  untrustedDaemonConfig,
  writeFileReplacing,
} from "./files.ts";
import { underPrefix } from "./paths.ts";
import type { Owner, Piece, SetupPlan } from "./plan.ts";

export type OutcomeStatus = "created" | "changed" | "unchanged" | "skipped";

export interface Outcome {
  piece: Piece;
  /** Where it was written (below the prefix). */
  path: string;
  status: OutcomeStatus;
  detail?: string;
  backup?: string;
}

export interface ApplyOptions {
  prefix: string;
  /** Running as root: owners are set. Otherwise files get the caller's own (a --prefix staging run). */
  root: boolean;
}

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

type Result = Omit<Outcome, "piece" | "path">;

function install(
  piece: Piece,
  path: string,
  owner: Ownership | undefined,
  options: ApplyOptions,
): Result {
  switch (piece.kind) {
    case "file":
      return installFile(path, piece.content, piece.mode, owner);
    case "symlink":
      return installSymlink(path, piece.target);
    case "dir": {
      const { created, chowned } = owner
        ? makeOwnedDir(path, piece.mode, owner, piece.claim === true)
        : { created: makeDir(path, piece.mode), chowned: false };
      if (created)
        return {
          status: "created",
          ...(piece.owner && !owner
            ? { detail: "owner not set: not root" }
            : {}),
        };
      return chowned
        ? {
            status: "changed",
            detail: `owner set to ${piece.owner?.user}:${piece.owner?.group}`,
          }
        : { status: "unchanged" };
    }
    case "touch": {
      makeDir(dirname(path), 0o755);
      if (owner) {
        const status = touchOwned(path, piece.mode, owner);
        return status === "changed"
          ? {
              status,
              detail: `owner set to ${piece.owner.user}:${piece.owner.group}`,
            }
          : { status };
      }
      if (!existsSync(path)) {
        writeFileReplacing(path, "", piece.mode, undefined);
        return { status: "created", detail: "owner not set: not root" };
      }
      return { status: "unchanged" };
    }
    case "include":
      return installInclude(path, piece.line, piece.comment, options.prefix);
    case "keyfile": {
      if (existsSync(path))
        return {
          status: "unchanged",
          detail: "kept (an existing key is never replaced)",
        };
      if (!options.root) {
        return {
          status: "skipped",
          detail:
            "not root: a key must be root's (mode 0400); run setup --write as root",
        };
      }
      makeDir(dirname(path), 0o755);
      writeFileReplacing(path, randomBytes(piece.bytes), 0o400, {
        uid: 0,
        gid: 0,
      });
      return {
        status: "created",
        detail: `${piece.bytes} random bytes, mode 0400 root:root; back it up: without it the disks cannot be opened`,
      };
    }
  }
}

function installFile(
  path: string,
  content: string,
  mode: number,
  owner: Ownership | undefined,
): Result {
  const stats = lstatOrUndefined(path);
  if (stats?.isFile() && readFileSync(path, "utf8") === content) {
    const changed = [
      owner && chownIfNeeded(path, owner) ? "owner" : "",
      chmodIfNeeded(path, mode) ? "mode" : "",
    ].filter(Boolean);
    return changed.length
      ? { status: "changed", detail: `${changed.join(" and ")} set` }
      : { status: "unchanged" };
  }
  makeDir(dirname(path), 0o755);
  const saved = stats ? backup(path) : undefined;
  writeFileReplacing(path, content, mode, owner);
  return saved ? { status: "changed", backup: saved } : { status: "created" };
}

function installSymlink(path: string, target: string): Result {
  const stats = lstatOrUndefined(path);
  if (stats?.isSymbolicLink() && readlinkSync(path) === target)
    return { status: "unchanged" };
  makeDir(dirname(path), 0o755);
  const saved = stats ? backup(path) : undefined;
  replaceSymlink(path, target);
  return saved ? { status: "changed", backup: saved } : { status: "created" };
}

function installInclude(
  path: string,
  line: string,
  comment: string,
  prefix: string,
): Result {
  if (!existsSync(path)) {
    return {
      status: "skipped",
      detail: `not found; add the line \`${line}\` to that daemon's config where it runs`,
    };
  }
  // Root edits a daemon's config only where root alone controls the whole path: a link the
  // run-as user planted in a directory it may write (/etc/bacula) must not steer the edit.
  const why =
    process.geteuid?.() === 0 ? untrustedDaemonConfig(path) : undefined;
  if (why)
    throw new ConfigError(
      `refusing to edit ${path}: ${why}; make it root's (chown root FILE; chmod go-w DIR) or add the line \`${line}\` by hand`,
    );
  // A config that is a link (to a shared file) is edited where it points, keeping the link.
  const real = prefix === "/" ? realpathSync(path) : path;
  let text: string;
  try {
    text = readTextBounded(real, { maxBytes: 4 * 1024 * 1024 });
  } catch (error) {
    throw new ConfigError(
      `refusing to edit ${real}: ${describeErrno(error)}; add the line \`${line}\` by hand`,
    );
  }
  const wanted = line.slice(1);
  const present = text.split("\n").some((l) => {
    const t = l.trim();
    return t === line || t === `@"${wanted}"`;
  });
  if (present) return { status: "unchanged" };
  const stats = statSync(real);
  const saved = backup(real);
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileReplacing(
    real,
    `${text}${separator}\n${comment}\n${line}\n`,
    stats.mode & 0o7777,
    { uid: stats.uid, gid: stats.gid },
  );
  return { status: "changed", detail: `added ${line}`, backup: saved };
}
