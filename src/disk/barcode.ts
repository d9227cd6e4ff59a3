// Volume file names are the barcodes Bacula sees. Bacula accepts ASCII letters, digits and
// ":.-_" (1..127 chars); ":" is excluded here because listall splits on it, and a leading dot
// marks hidden files (our own identity marker among them).
const VOLUME_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,126}$/;

// Files people leave on a disk that are legal barcodes but never volumes (vchanger listed a
// README as a tape): well-known document names and document extensions.
const DOCUMENT =
  /^(?:readme|license|licence|copying|changelog|notes|todo)(?:\.[A-Za-z0-9]{1,5})?$|\.(?:txt|md|pdf|html?|log|conf|cfg|ini|json|toml|ya?ml|sh|bak|old|tmp|swp)$/i;

export function isVolumeName(name: string): boolean {
  return VOLUME_NAME.test(name) && !DOCUMENT.test(name);
}

/** The directory on a magazine that carries its identity: `.magchanger-<uuid>`. */
export const IDENTITY_PREFIX = ".magchanger-";

/** Volume names magazine init/createvols create: usbchanger1_0004_0008, as in the seed. */
export function volumeName(
  changer: string,
  magazine: number,
  volume: number,
): string {
  return `${changer}_${String(magazine).padStart(4, "0")}_${String(volume).padStart(4, "0")}`;
}
