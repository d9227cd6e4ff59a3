// What setup needs to know of the Director's own config to write a Pool and an example Job that
// it accepts: the Client to back up, the Messages resource, and whether the Pool exists already
// (a second `Pool { Name = X }` makes the Director refuse to start). Only the main file is read,
// bounded and without following its @includes (the stanza setup writes is one of them). Here, not
// in setup/, which loads nothing of bacula/: the setup command reads these and hands them down.
import { directive, parseBaculaConf } from "./conf.ts";
import { readTextIfExists } from "../state/safe-fs.ts";

export interface DirectorFacts {
  file: string;
  clients: string[];
  pools: string[];
  messages: string[];
}

const MAX_BYTES = 4 * 1024 * 1024;

/** The Director config's resource names, or undefined when it is missing or unreadable. */
export function readDirectorFacts(file: string): DirectorFacts | undefined {
  let text: string | undefined;
  try {
    text = readTextIfExists(file, { maxBytes: MAX_BYTES });
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  const resources = parseBaculaConf(text, file);
  const names = (type: string) =>
    resources
      .filter((r) => r.type === type)
      .map((r) => directive(r, "Name"))
      .filter((n): n is string => Boolean(n));
  return {
    file,
    clients: names("client"),
    pools: names("pool"),
    messages: names("messages"),
  };
}

/**
 * The Client the example Job backs up: the Director's only one, or among several the one Debian
 * names after this host (HOST-fd); undefined when that leaves a choice to the admin.
 */
export function exampleClient(
  facts: DirectorFacts | undefined,
  hostname: string,
): string | undefined {
  const clients = facts?.clients ?? [];
  if (clients.length === 1) return clients[0];
  const short = hostname.split(".")[0] ?? hostname;
  return clients.find((c) => c === `${short}-fd`);
}

/** The Address and Password an admin filled in for this Storage in the stanza setup wrote. */
export interface FilledStorage {
  address?: string;
  password?: string;
}

/**
 * What the admin put in place of CHANGE-ME in an earlier version of the stanza file, so that a
 * second `setup --write` keeps it instead of replacing it with the placeholders again.
 */
export function readFilledStorage(
  file: string,
  storage: string,
  placeholder: string,
): FilledStorage {
  let text: string | undefined;
  try {
    text = readTextIfExists(file, { maxBytes: MAX_BYTES });
  } catch {
    return {};
  }
  const resource = parseBaculaConf(text ?? "", file).find(
    (r) => r.type === "storage" && directive(r, "Name") === storage,
  );
  const value = (name: string) => {
    const v = resource ? directive(resource, name) : undefined;
    return v && v !== placeholder ? v : undefined;
  };
  const address = value("Address");
  const password = value("Password");
  return {
    ...(address === undefined ? {} : { address }),
    ...(password === undefined ? {} : { password }),
  };
}
