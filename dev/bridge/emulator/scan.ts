/** The SCAN family's cursor and options (Redis's scanGenericCommand). */
import { integerArg, isOption } from "./args";
import { type Bin, globMatch } from "./bytes";
import { CommandError, SYNTAX } from "./errors";
import type { Reply } from "./reply";

export interface ScanOptions {
  readonly cursor: number;
  readonly count: number;
  readonly match: Bin | undefined;
  readonly type: Bin | undefined;
}

/** Parses `cursor [MATCH p] [COUNT n] [TYPE t]` starting at argv[cursorIndex]. */
export function parseScan(argv: readonly Bin[], cursorIndex: number, allowType: boolean): ScanOptions {
  const cursorText = argv[cursorIndex] as Bin;
  // strtoul: digits only here (it would also take a sign), an empty cursor reads as 0.
  if (!/^[0-9]*$/.test(cursorText) || (cursorText.length > 0 && BigInt(cursorText) >= 2n ** 64n)) {
    throw new CommandError("ERR invalid cursor");
  }
  let count = 10;
  let match: Bin | undefined;
  let type: Bin | undefined;
  for (let i = cursorIndex + 1; i < argv.length; i += 2) {
    const option = argv[i] as Bin;
    const value = argv[i + 1];
    if (value === undefined) throw new CommandError(SYNTAX);
    if (isOption(option, "COUNT")) {
      count = integerArg(value);
      if (count < 1) throw new CommandError(SYNTAX);
    } else if (isOption(option, "MATCH")) {
      match = value;
    } else if (allowType && isOption(option, "TYPE")) {
      type = value;
    } else throw new CommandError(SYNTAX);
  }
  return { cursor: cursorText.length === 0 ? 0 : Number(cursorText), count, match, type };
}

export function matches(pattern: Bin | undefined, subject: Bin): boolean {
  // "*" is the common case Redis also short-circuits (use_pattern is off for it).
  return pattern === undefined || pattern === "*" || globMatch(pattern, subject);
}

/**
 * HSCAN / SSCAN / ZSCAN over a collection's items (each one or two reply elements). A
 * collection Redis keeps compact (listpack, intset) is answered whole with cursor 0, as Redis
 * does; a larger one `count` items at a time, the cursor being a position.
 */
export function scanItems<T>(
  items: readonly T[],
  options: ScanOptions,
  compact: boolean,
  name: (item: T) => Bin,
  reply: (item: T) => Reply[],
): Reply {
  const start = compact ? 0 : options.cursor;
  const end = compact ? items.length : Math.min(items.length, start + options.count);
  const found: Reply[] = [];
  for (let i = start; i < end; i++) {
    const item = items[i] as T;
    if (matches(options.match, name(item))) found.push(...reply(item));
  }
  return [String(end >= items.length ? 0 : end), found];
}
