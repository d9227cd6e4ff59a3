// Reads one changer configuration file into a validated Config. Errors name the file and the
// line (syntax) or the key path (schema) and what is allowed, on one line.
import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { ConfigError, describeErrno } from "../errors.ts";
import { type Config, configSchema } from "./schema.ts";

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      `cannot read config ${file}: ${describeErrno(error)}; pass the changer's .toml file (see conf/magchanger.toml)`,
      { cause: error },
    );
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const message =
        error.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ??
        "syntax error";
      throw new ConfigError(`config ${file} line ${error.line}: ${message}`, {
        cause: error,
      });
    }
    throw error;
  }
  return validateConfig(raw, file);
}

export function validateConfig(raw: unknown, file: string): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path
        .map((p) =>
          typeof p === "number" ? `[${p + (p >= 0 ? 1 : 0)}]` : `.${String(p)}`,
        )
        .join("")
        .replace(/^\./, "");
      if (issue.code === "unrecognized_keys") {
        const allowed = allowedKeysAt(issue.path);
        return `${path || "top level"}: unknown key ${issue.keys.join(", ")}${allowed ? `; allowed: ${allowed.join(", ")}` : ""}`;
      }
      return `${path || "top level"}: ${issue.message}`;
    });
    throw new ConfigError(`config ${file}: ${problems.join("; ")}`);
  }
  const value = result.data;
  return {
    ...value,
    work_dir: value.work_dir ?? `/var/lib/magchanger/${value.name}`,
    log_file: value.log_file ?? `/var/log/magchanger/${value.name}.log`,
    source: file,
  };
}

/** The keys a table allows, read from the schema itself so the message never drifts from it. */
function allowedKeysAt(path: PropertyKey[]): string[] | undefined {
  // biome-ignore lint: walking zod's internal definition tree
  let node: any = configSchema;
  for (const step of path) {
    while (node?._zod?.def?.innerType) node = node._zod.def.innerType;
    if (typeof step === "number") node = node?._zod?.def?.element;
    else node = node?._zod?.def?.shape?.[step];
  }
  while (node?._zod?.def?.innerType) node = node._zod.def.innerType;
  const shape = node?._zod?.def?.shape;
  return shape ? Object.keys(shape) : undefined;
}
