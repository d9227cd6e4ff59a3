import { AppError } from "../errors.ts";

export function main(_args: string[]): void {
  throw new AppError("magchanger setup is not built yet");
}
