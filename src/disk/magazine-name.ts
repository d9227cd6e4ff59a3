// A magazine's human name ("Thursday"): stored in its identity, shown in every message as
// `magazine 2 "Thursday" (label usbchanger1-thu, UUID ...)`, accepted where a bay or a number is.
import type { EventMagazine } from "../events/types.ts";

export const MAX_NAME_LENGTH = 32;

/**
 * Letters, digits, space and `._-`, starting with a letter or digit, with at least one letter (so
 * a name is never read as a bay or magazine number). Nothing that needs quoting in a mail
 * subject, a shell or a terminal.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/;

export function nameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH)
    return `must be 1..${MAX_NAME_LENGTH} characters`;
  if (!NAME.test(name) || name.endsWith(" "))
    return "may hold only letters, digits, spaces and ._- (starting with a letter or digit, no trailing space)";
  if (!/[A-Za-z]/.test(name))
    return "needs at least one letter (a number names a bay or a magazine)";
  return undefined;
}

export function isMagazineName(value: unknown): value is string {
  return typeof value === "string" && nameProblem(value) === undefined;
}

/** Names compare without case: "thursday" and "Thursday" are one disk to an operator. */
export function sameName(
  a: string | undefined,
  b: string | undefined,
): boolean {
  return (
    a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase()
  );
}

/** The fields every message names a magazine by. */
export function magazineRef(identity: {
  number: number;
  uuid: string;
  name?: string | undefined;
  label?: string | undefined;
}): EventMagazine {
  return {
    number: identity.number,
    uuid: identity.uuid,
    ...(identity.name !== undefined ? { name: identity.name } : {}),
    ...(identity.label !== undefined ? { label: identity.label } : {}),
  };
}
