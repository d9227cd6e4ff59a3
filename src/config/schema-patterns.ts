// The name patterns the config schema and its users share, kept apart from zod: unlock and the
// protocol path import them without loading the schemas.
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** A device-mapper name: it becomes /dev/mapper/NAME and an argv element, so no leading '-'. */
/** automap.key, and a bay's last path component, which becomes its autofs key. */
export const AUTOFS_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAPPER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;
