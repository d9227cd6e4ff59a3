import { AppError } from "../errors.ts";

export function main(_args: string[]): void {
  throw new AppError("magchanger unlock is not built yet");
}
