// Installing one piece of the setup plan, idempotently: a file or link replaced (after a backup)
// only when it differs, a directory or log made when missing, an include line appended once, the
// LUKS key made once. apply.ts checks every piece before any of these runs.
import { randomBytes } from "node:crypto";
import { existsSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, describeErrno } from "../errors.ts";
import { replaceSymlink } from "../state/atomic.ts";
import { readFileBounded } from "../state/safe-fs.ts";
import {
  backup,
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
import type { Piece } from "./plan.ts";

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

type Result = Omit<Outcome, "piece" | "path">;

export function install(
  piece: Piece,
  path: string,
  owner: Ownership | undefined,
  options: ApplyOptions,
): Result {
  switch (piece.kind) {
    case "file":
      return installFile(
        path,
        piece.content,
        piece.mode,
        owner,
        piece.backup !== false,
      );
    case "symlink":
      return installSymlink(path, piece.target);
    case "dir":
      return installDir(piece, path, owner);
    case "touch":
      return installTouch(piece, path, owner);
    case "include":
      return installInclude(path, piece.line, piece.comment, options.prefix);
    case "keyfile":
      return installKey(piece, path, options);
  }
}

type PieceOf<K extends Piece["kind"]> = Extract<Piece, { kind: K }>;

function installDir(
  piece: PieceOf<"dir">,
  path: string,
  owner: Ownership | undefined,
): Result {
  const { created, chowned } = owner
    ? makeOwnedDir(path, piece.mode, owner, piece.claim === true)
    : { created: makeDir(path, piece.mode), chowned: false };
  if (created)
    return {
      status: "created",
      ...(piece.owner && !owner ? { detail: "owner not set: not root" } : {}),
    };
  return chowned
    ? {
        status: "changed",
        detail: `owner set to ${piece.owner?.user}:${piece.owner?.group}`,
      }
    : { status: "unchanged" };
}

function installTouch(
  piece: PieceOf<"touch">,
  path: string,
  owner: Ownership | undefined,
): Result {
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

/** The LUKS key: made once, as root only, never replaced. */
function installKey(
  piece: PieceOf<"keyfile">,
  path: string,
  options: ApplyOptions,
): Result {
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

/** Whether path holds exactly content: read no further than content's length (bounded, no link). */
function holds(path: string, content: string): boolean {
  const wanted = Buffer.from(content);
  try {
    return readFileBounded(path, {
      maxBytes: wanted.length,
      singleLink: false,
    }).equals(wanted);
  } catch {
    return false; // larger, or no longer a plain file: replaced (after a backup)
  }
}

function installFile(
  path: string,
  content: string,
  mode: number,
  owner: Ownership | undefined,
  keepOld: boolean,
): Result {
  const stats = lstatOrUndefined(path);
  if (stats?.isFile() && holds(path, content)) {
    const changed = [
      owner && chownIfNeeded(path, owner) ? "owner" : "",
      chmodIfNeeded(path, mode) ? "mode" : "",
    ].filter(Boolean);
    return changed.length
      ? { status: "changed", detail: `${changed.join(" and ")} set` }
      : { status: "unchanged" };
  }
  makeDir(dirname(path), 0o755);
  const saved = stats && keepOld ? backup(path) : undefined;
  writeFileReplacing(path, content, mode, owner);
  if (stats && !saved) return { status: "changed" };
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
  let bytes: Buffer;
  try {
    bytes = readFileBounded(real, { maxBytes: 4 * 1024 * 1024 });
  } catch (error) {
    throw new ConfigError(
      `refusing to edit ${real}: ${describeErrno(error)}; add the line \`${line}\` by hand`,
    );
  }
  const text = bytes.toString("utf8");
  const wanted = line.slice(1);
  const present = text.split("\n").some((l) => {
    const t = l.trim();
    return t === line || t === `@"${wanted}"`;
  });
  if (present) return { status: "unchanged" };
  const stats = statSync(real);
  // The bytes read above, not a second (unbounded) read: the daemon's user may own the file.
  const saved = backup(real, bytes);
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileReplacing(
    real,
    `${text}${separator}\n${comment}\n${line}\n`,
    stats.mode & 0o7777,
    { uid: stats.uid, gid: stats.gid },
  );
  return { status: "changed", detail: `added ${line}`, backup: saved };
}
