// cryptsetup, spawned with argv arrays and bounded timeouts (udev kills RUN+= programs after
// 180 s). Its exit codes (cryptsetup(8)) become messages that say what to do. The key is only
// ever passed as --key-file PATH.
import { AppError, ToolError } from "../errors.ts";
import type { Exec, ExecResult } from "../system/exec.ts";
import { lastLines } from "../text.ts";

/** Header queries are quick; opening runs the PBKDF (argon2: seconds). Together, with a few
 * unmounts, they stay under udev's 180 s. */
const QUERY_TIMEOUT_MS = 10_000;
const OPEN_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 15_000;

export const CRYPTSETUP_EXIT: Record<number, string> = {
  1: "wrong parameters",
  2: "no permission or bad passphrase",
  3: "out of memory",
  4: "wrong device specified",
  5: "device already exists or device is busy",
};

export interface Cryptsetup {
  isLuks(device: string): Promise<boolean>;
  luksUUID(device: string): Promise<string>;
  status(name: string): Promise<MappingStatus>;
  open(device: string, name: string, keyFile: string): Promise<void>;
  /** Closes name; "busy" when something still holds it open. */
  close(
    name: string,
    options?: { deferred?: boolean },
  ): Promise<"closed" | "not-active" | "busy">;
}

export interface MappingStatus {
  active: boolean;
  /** Held open (mounted, or used by another mapping). */
  inUse: boolean;
  /** The backing device; undefined when it disappeared (cryptsetup prints "(null)"). */
  device: string | undefined;
  /** LUKS1, LUKS2, PLAIN, ...; "n/a" for a device-mapper device that is not dm-crypt. */
  type: string;
}

export function cryptsetup(tool: string, exec: Exec): Cryptsetup {
  const run = async (
    argv: string[],
    timeoutMs: number,
  ): Promise<ExecResult> => {
    const result = await exec([tool, ...argv], { timeoutMs });
    if (result.timedOut)
      throw new ToolError(
        `${tool} ${argv[0]} timed out after ${Math.round(timeoutMs / 1000)} s and was killed`,
      );
    return result;
  };
  return {
    async isLuks(device) {
      const result = await run(["isLuks", "--", device], QUERY_TIMEOUT_MS);
      if (result.exitCode === 0) return true;
      if (result.exitCode === 1) return false;
      throw failure(tool, "isLuks", device, result);
    },
    async luksUUID(device) {
      const result = await run(["luksUUID", "--", device], QUERY_TIMEOUT_MS);
      const uuid = result.stdout.trim();
      if (result.exitCode !== 0 || !/^[0-9A-Fa-f-]{8,64}$/.test(uuid))
        throw failure(tool, "luksUUID", device, result);
      return uuid.toLowerCase();
    },
    async status(name) {
      const result = await run(["status", "--", name], QUERY_TIMEOUT_MS);
      // 4: inactive; 0: active. Anything else (1: no device-mapper) is an answer we cannot use.
      if (result.exitCode === 4)
        return { active: false, inUse: false, device: undefined, type: "" };
      if (result.exitCode !== 0) throw failure(tool, "status", name, result);
      return parseStatus(result.stdout);
    },
    async open(device, name, keyFile) {
      const result = await run(
        ["open", "--type", "luks", "--key-file", keyFile, "--", device, name],
        OPEN_TIMEOUT_MS,
      );
      if (result.exitCode === 0) return;
      throw openFailure(tool, device, name, keyFile, result);
    },
    async close(name, options = {}) {
      const result = await run(
        ["close", ...(options.deferred ? ["--deferred"] : []), "--", name],
        CLOSE_TIMEOUT_MS,
      );
      if (result.exitCode === 0) return "closed";
      if (result.exitCode === 4) return "not-active";
      if (result.exitCode === 5) return "busy";
      throw failure(tool, "close", name, result);
    },
  };
}

export function parseStatus(stdout: string): MappingStatus {
  const firstLine = stdout.split("\n")[0] ?? "";
  const deviceLine = /^\s*device:\s*(.*?)\s*$/m.exec(stdout);
  const device = deviceLine?.[1];
  return {
    active: true,
    inUse: /\bin use\b/.test(firstLine),
    device: device && device.startsWith("/") ? device : undefined,
    type: /^\s*type:\s*(\S+)/m.exec(stdout)?.[1] ?? "n/a",
  };
}

function failure(
  tool: string,
  action: string,
  subject: string,
  result: ExecResult,
): ToolError {
  const meaning = CRYPTSETUP_EXIT[result.exitCode];
  const detail = lastLines(result.stderr) || lastLines(result.stdout);
  return new ToolError(
    `${tool} ${action} ${subject} failed with exit ${result.exitCode}${meaning ? ` (${meaning})` : ""}${detail ? `: ${detail}` : ""}`,
  );
}

function openFailure(
  tool: string,
  device: string,
  name: string,
  keyFile: string,
  result: ExecResult,
): AppError {
  const detail = lastLines(result.stderr);
  const said = detail ? ` (cryptsetup: ${detail})` : "";
  switch (result.exitCode) {
    case 2:
      return new ToolError(
        `wrong key: ${keyFile} does not unlock ${device}${said}; format the disk with this key file or add it with cryptsetup luksAddKey ${device} ${keyFile}`,
      );
    case 3:
      return new ToolError(
        `cryptsetup ran out of memory opening ${device}${said}; the LUKS PBKDF needs more memory than this context allows`,
      );
    case 4:
      return new ToolError(
        `cryptsetup cannot use ${device}${said}; the disk may have been removed while it was opened`,
      );
    case 5:
      return new ToolError(
        `cannot open ${device} as /dev/mapper/${name}: the name exists already or ${device} is busy (held by another mapping or mount)${said}; check with: ${tool} status ${name}`,
      );
    default:
      return failure(tool, "open", device, result);
  }
}
