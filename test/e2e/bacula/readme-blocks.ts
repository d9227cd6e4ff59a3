// The shell commands of one README section, in order, as a reader would paste them: the ```sh
// blocks under a `## ` heading, one entry per line (comments included, blank lines dropped),
// a here-document kept with its command.

export interface ReadmeCommand {
  /** The command text (for a here-document: the command line, the body and the delimiter). */
  text: string;
  /** Line 1 of the command in README.md (1-based), for failure messages. */
  line: number;
  comment: boolean;
}

export function sectionCommands(
  readme: string,
  heading: string,
): ReadmeCommand[] {
  const lines = readme.split("\n");
  const start = lines.findIndex((l) => l === `## ${heading}`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const out: ReadmeCommand[] = [];
  let inBlock = false;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (!inBlock && line.startsWith("## ")) break;
    if (!inBlock) {
      inBlock = line === "```sh";
      continue;
    }
    if (line === "```") {
      inBlock = false;
      continue;
    }
    if (line.trim() === "") continue;
    const heredoc = /<<-?\s*'?([A-Za-z_]+)'?\s*$/.exec(line)?.[1];
    if (!heredoc) {
      out.push({ text: line, line: i + 1, comment: line.startsWith("#") });
      continue;
    }
    const end = lines.indexOf(heredoc, i + 1);
    if (end < 0)
      throw new Error(
        `README.md:${i + 1}: here-document ${heredoc} never ends`,
      );
    out.push({
      text: lines.slice(i, end + 1).join("\n"),
      line: i + 1,
      comment: false,
    });
    i = end;
  }
  return out;
}
