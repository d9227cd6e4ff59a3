// The autofs pieces that replace the seed's /etc/auto.master line and /etc/auto.usbchanger1 map:
// a master.d entry whose map is the magchanger binary itself (an executable "program" map).
import { autofsBays, installPaths } from "../config/layout.ts";
import { type GenerateOptions, generatedBy } from "./udev.ts";

/** Seconds idle before autofs unmounts the disk, so it can be pulled (the seed used 10). */
export const AUTOFS_TIMEOUT = 10;
/** autofs caches a failed lookup this long (default 60): keep a newly attached disk visible soon. */
export const AUTOFS_NEGATIVE_TIMEOUT = 5;

/** One line for the bays' one mount dir: the program map answers the key of every bay there. */
export function autofsMasterEntry(o: GenerateOptions): string | undefined {
  const bays = autofsBays(o.config);
  const [bay] = bays;
  if (!bay) return undefined;
  const map = installPaths(o.config.name, o.configPath).autofsMap;
  const where =
    bays.length === 1
      ? `the attached disk at ${bay.path}`
      : `each attached disk at its bay (${bays.map((b) => b.path).join(", ")})`;
  const lookup =
    bays.length === 1
      ? `lookup of "${bay.key}" (\`automap ${bay.key}\`) with the mount entry of the disk attached now.`
      : `lookups of ${bays.map((b) => `"${b.key}"`).join(", ")} (\`automap KEY\`) with the mount entry of the disk\n# attached in that bay now (/dev/mapper/${bays.map((b) => b.mapper).join(", /dev/mapper/")}).`;
  return `# magchanger changer "${o.config.name}": mount ${where} when it is
# accessed and unmount it after ${AUTOFS_TIMEOUT} s idle, so it can be pulled without data loss.
${generatedBy(o)}#
# ${map} is a link to ${o.binary}; run through that name, magchanger answers autofs's
# ${lookup}
${bay.mountDir} program:${map} --timeout=${AUTOFS_TIMEOUT} --negative-timeout=${AUTOFS_NEGATIVE_TIMEOUT}
`;
}
