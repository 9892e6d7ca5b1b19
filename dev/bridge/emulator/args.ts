/** Argument parsing with Redis's error texts (its getLongLongFromObjectOrReply and friends). */
import type { Bin } from "./bytes";
import { CommandError, NOT_A_FLOAT, NOT_AN_INTEGER } from "./errors";
import { parseDouble, parseInt64 } from "./numbers";

export function int64Arg(text: Bin): bigint {
  const value = parseInt64(text);
  if (value === undefined) throw new CommandError(NOT_AN_INTEGER);
  return value;
}

/** An int64 argument as a JS number (counts, indexes and times, all far below 2^53 in practice). */
export function integerArg(text: Bin): number {
  return Number(int64Arg(text));
}

export function floatArg(text: Bin): number {
  const value = parseDouble(text);
  if (value === undefined) throw new CommandError(NOT_A_FLOAT);
  return value;
}

/** Case-insensitive option word, as Redis's strcasecmp. */
export function isOption(text: Bin | undefined, option: string): boolean {
  return text !== undefined && text.length === option.length && text.toUpperCase() === option;
}
