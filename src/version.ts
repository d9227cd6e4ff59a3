declare const MAGCHANGER_VERSION: string | undefined;
declare const MAGCHANGER_BUILD: string | undefined;
/** Injected by build.ts; "dev" when run from source. */
export const version: string =
  typeof MAGCHANGER_VERSION === "string" ? MAGCHANGER_VERSION : "dev";
/** Unique per build: cached validations from another build are never trusted. */
export const build: string =
  typeof MAGCHANGER_BUILD === "string"
    ? MAGCHANGER_BUILD
    : `dev-${process.pid}`;
