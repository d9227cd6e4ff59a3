declare const MAGCHANGER_VERSION: string | undefined;
/** Injected by build.ts; "dev" when run from source. */
export const version: string =
  typeof MAGCHANGER_VERSION === "string" ? MAGCHANGER_VERSION : "dev";
