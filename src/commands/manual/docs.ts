// Everything `setup --write` installs for people rather than programs: the man pages and the
// bash completion, by install path. build.ts renders them once, from the command declarations and
// the config schema, and bakes them into the binary (installed-docs.ts), so the one file copied to
// /usr/local/bin carries them and they always match its --help and its config errors.
import { bashCompletion } from "./completion.ts";
import { configPage } from "./config-page.ts";
import { commandPage, type Loaders, overviewPage } from "./pages.ts";

export const MAN_DIR = "/usr/local/share/man";
export const COMPLETION_PATH =
  "/usr/local/share/bash-completion/completions/magchanger";

export async function renderDocs(
  commands: Loaders,
  version: string,
): Promise<Record<string, string>> {
  const docs: Record<string, string> = {
    [`${MAN_DIR}/man8/magchanger.8`]: await overviewPage(commands, version),
  };
  for (const [name, load] of Object.entries(commands))
    docs[`${MAN_DIR}/man8/magchanger-${name}.8`] = commandPage(
      name,
      (await load()).command,
      version,
    );
  docs[`${MAN_DIR}/man5/magchanger.toml.5`] = configPage(version);
  docs[COMPLETION_PATH] = await bashCompletion(commands);
  return docs;
}
