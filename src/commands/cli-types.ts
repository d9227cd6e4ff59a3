// The shape of a command's declaration (defineCommand, defineGroup in cli.ts), apart from cli.ts
// so that cli-help.ts, which cli.ts loads only for --help, can read it without importing cli.ts.
import type { ExitStatus } from "../errors.ts";
import type { OptionsDef, Parsed, ParseSpec } from "./cli-parse.ts";

export interface CommandDef<
  O extends OptionsDef = OptionsDef,
> extends ParseSpec {
  options: O;
  /** One line, for `magchanger --help` and the first line of this command's help. */
  summary: string;
  /** Synopsis lines after "magchanger "; default: made from the options and positionals. */
  usage?: string[];
  /** Paragraphs, wrapped; a paragraph starting with two spaces is an example, kept as it is. */
  description?: string[];
  exitStatus: ExitStatus;
  /** stdout carries another program's protocol (Bacula, autofs): help goes to stderr. */
  protocol?: boolean;
  /**
   * What an error of this command becomes, a wrong command line included: a monitoring plugin
   * answers UNKNOWN on stdout where other commands print one line on stderr.
   */
  mapError?(error: unknown): unknown;
  run(parsed: Parsed<O>): Promise<void> | void;
}

export interface GroupDef {
  name: string;
  summary: string;
  description?: string[];
  subcommands: Record<string, CommandDef<any>>;
  exitStatus: ExitStatus;
}

export type AnyCommand = CommandDef<any> | GroupDef;
