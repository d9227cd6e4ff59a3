// Root's early drop: a protocol call started as root (vchanger's `-u USER -g GROUP` form, or an
// SD running as root) becomes the run-as user before it looks at the validated-config cache,
// so the cache, which that user writes, is only ever read with that user's rights: it can give
// the process nothing the user could not do already. The user and group come from root's own
// config (read under root's trust checks, config/read.ts), parsed but not yet validated, or
// from -u/-g. When they are not plain names that exist, nothing is dropped early: the config is
// validated as root first and reported as before (a bad config is exit 3, not a drop failure).
import { PrivilegeError } from "../errors.ts";
import { dropPrivileges, lookupGroup, lookupUser } from "./identity.ts";

interface RunAs {
  user: string;
  group: string;
}

/** -u/-g of the vchanger form, which win over the config's names. */
interface RunAsOverride {
  user?: string | undefined;
  group?: string | undefined;
}

/** The same names the schema accepts for user and group. */
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}\$?$/;
const GROUP = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$/;

export interface EarlyDrop {
  /** ReadOptions.beforeCache: drops root when the raw config names an existing user and group. */
  drop: (raw: unknown) => void;
  /** ReadOptions.acceptCached: a cached config must name the user and group dropped to. */
  accepts: (config: RunAs) => boolean;
  /**
   * After validation: the drop's note when it happened early, undefined when the caller must
   * still drop privileges itself. Throws if the validated names are not the ones dropped to.
   */
  check: (validated: RunAs) => string | undefined;
}

export function dropBeforeCache(override: RunAsOverride): EarlyDrop {
  let done: { runAs: RunAs; note: string } | undefined;
  const same = (config: RunAs) =>
    done !== undefined &&
    (override.user ?? config.user) === done.runAs.user &&
    (override.group ?? config.group) === done.runAs.group;
  return {
    drop(raw) {
      const fields = (raw ?? {}) as { user?: unknown; group?: unknown };
      const user = override.user ?? fields.user;
      const group = override.group ?? fields.group;
      if (typeof user !== "string" || !USER.test(user)) return;
      if (typeof group !== "string" || !GROUP.test(group)) return;
      if (!lookupUser(user) || !lookupGroup(group)) return;
      done = { runAs: { user, group }, note: dropPrivileges({ user, group }) };
    },
    accepts: same,
    check(validated) {
      if (!done) return undefined;
      // zod passes a present user/group through unchanged, so this cannot differ.
      if (!same(validated))
        throw new PrivilegeError(
          `switched to ${done.runAs.user}:${done.runAs.group} before validating the config, which names ${validated.user}:${validated.group}; report this as a bug`,
        );
      return done.note;
    },
  };
}
