import { AppError } from "../errors.ts";

export function main(_args: string[]): void {
  throw new AppError("the vchanger command form is not built yet");
}
