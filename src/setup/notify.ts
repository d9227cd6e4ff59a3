// What setup says about [notify]: a working example with Debian's mail when the config has none.
import type { Config } from "../config/schema.ts";

export function notifyNotes(config: Config, configPath: string): string[] {
  if (config.notify?.command.length) return [];
  return [
    `to be told which disk to bring (and which drawer disk has room when a backup waits for space, when a disk stays in or away longer than [rotation] allows, a refresh fails, a disk is nearly full or a foreign disk is in a bay), add to ${configPath}: [notify] command = ["/usr/bin/mail", "-s", "magchanger ${config.name}: {summary}", "root"] (Debian: apt-get install bsd-mailx and a mail transport such as exim4 or nullmailer); refresh and the timer deliver each event once, as JSON on stdin`,
  ];
}
