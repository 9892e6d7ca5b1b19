/** List commands. */
import { integerArg } from "../args";
import type { Bin } from "../bytes";
import { type CommandSpec, command, type ExecContext } from "../command";
import { arityError, CommandError, NO_SUCH_KEY, OUT_OF_RANGE } from "../errors";
import { OK, type Reply } from "../reply";

const readList = (ctx: ExecContext, key: Bin) => ctx.db.read(key, "list");

/** Redis's start/end sanitizing for LRANGE / LTRIM: [from, to) within the list, or empty. */
export function rankRange(start: number, end: number, length: number): [number, number] {
  let from = start < 0 ? length + start : start;
  let to = end < 0 ? length + end : end;
  if (from < 0) from = 0;
  if (from > to || from >= length) return [0, 0];
  if (to >= length) to = length - 1;
  return [from, to + 1];
}

function push(atHead: boolean, onlyExisting: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const key = argv[1] as Bin;
    const existing = readList(ctx, key);
    if (!existing && onlyExisting) return 0;
    const list = existing ?? ctx.db.readOrCreate(key, "list", () => []);
    const values = argv.slice(2);
    if (atHead) list.unshift(...values.reverse());
    else list.push(...values);
    return list.length;
  };
}

function pop(atHead: boolean, name: string) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    if (argv.length > 3) throw arityError(name);
    const hasCount = argv.length === 3;
    const count = hasCount ? integerArg(argv[2] as Bin) : 0;
    if (count < 0) throw new CommandError(OUT_OF_RANGE);
    const key = argv[1] as Bin;
    const list = readList(ctx, key);
    if (!list) return null;
    if (hasCount && count === 0) return [];
    const taken = atHead
      ? list.splice(0, hasCount ? count : 1)
      : list.splice(-(hasCount ? count : 1)).reverse();
    ctx.db.removeIfEmpty(key, list.length);
    return hasCount ? taken : (taken[0] ?? null);
  };
}

function lrem(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", countText = "", value = ""] = argv;
  const count = integerArg(countText);
  const list = readList(ctx, key);
  if (!list) return 0;
  const limit = count === 0 ? Number.POSITIVE_INFINITY : Math.abs(count);
  let removed = 0;
  if (count >= 0) {
    for (let i = 0; i < list.length && removed < limit; ) {
      if (list[i] === value) {
        list.splice(i, 1);
        removed++;
      } else i++;
    }
  } else {
    for (let i = list.length - 1; i >= 0 && removed < limit; i--) {
      if (list[i] === value) {
        list.splice(i, 1);
        removed++;
      }
    }
  }
  ctx.db.removeIfEmpty(key, list.length);
  return removed;
}

function ltrim(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", startText = "", endText = ""] = argv;
  const start = integerArg(startText);
  const end = integerArg(endText);
  const list = readList(ctx, key);
  if (!list) return OK;
  const [from, to] = rankRange(start, end, list.length);
  const kept = list.slice(from, to);
  list.length = 0;
  list.push(...kept);
  ctx.db.removeIfEmpty(key, list.length);
  return OK;
}

function lset(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", indexText = "", value = ""] = argv;
  const index = integerArg(indexText);
  const list = readList(ctx, key);
  if (!list) throw new CommandError(NO_SUCH_KEY);
  const position = index < 0 ? list.length + index : index;
  if (position < 0 || position >= list.length) throw new CommandError("ERR index out of range");
  list[position] = value;
  return OK;
}

export const LIST_COMMANDS: readonly CommandSpec[] = [
  command("lpush", -3, ["write"], push(true, false)),
  command("rpush", -3, ["write"], push(false, false)),
  command("lpushx", -3, ["write"], push(true, true)),
  command("rpushx", -3, ["write"], push(false, true)),
  command("lpop", -2, ["write"], pop(true, "lpop")),
  command("rpop", -2, ["write"], pop(false, "rpop")),
  command("llen", 2, [], (ctx, [, key = ""]) => readList(ctx, key)?.length ?? 0),
  command("lrange", 4, [], (ctx, [, key = "", start = "", end = ""]) => {
    const from = integerArg(start);
    const to = integerArg(end);
    const list = readList(ctx, key) ?? [];
    return list.slice(...rankRange(from, to, list.length));
  }),
  command("lindex", 3, [], (ctx, [, key = "", indexText = ""]) => {
    const index = integerArg(indexText);
    const list = readList(ctx, key);
    if (!list) return null;
    return list[index < 0 ? list.length + index : index] ?? null;
  }),
  command("lrem", 4, ["write"], lrem),
  command("ltrim", 4, ["write"], ltrim),
  command("lset", 4, ["write"], lset),
];
