/** Hash commands. */
import { int64Arg } from "../args";
import type { Bin } from "../bytes";
import { type CommandSpec, command, type ExecContext } from "../command";
import { arityError, CommandError, INCR_OVERFLOW, NOT_A_FLOAT } from "../errors";
import { formatHumanDouble, INT64_MAX, INT64_MIN, parseDouble, parseInt64 } from "../numbers";
import { OK, type Reply } from "../reply";
import { parseScan, scanItems } from "../scan";

/** hash-max-listpack-entries / -value: a hash this small is one listpack, which HSCAN answers whole. */
const LISTPACK_ENTRIES = 128;
const LISTPACK_VALUE = 64;

const readHash = (ctx: ExecContext, key: Bin) => ctx.db.read(key, "hash");
const writeHash = (ctx: ExecContext, key: Bin) => ctx.db.readOrCreate(key, "hash", () => new Map());

function hset(name: string, reply: (added: number) => Reply) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    if (argv.length % 2 === 1) throw arityError(name);
    const hash = writeHash(ctx, argv[1] as Bin);
    let added = 0;
    for (let j = 2; j < argv.length; j += 2) {
      if (!hash.has(argv[j] as Bin)) added++;
      hash.set(argv[j] as Bin, argv[j + 1] as Bin);
    }
    return reply(added);
  };
}

function hincrby(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", field = "", incrementText = ""] = argv;
  const increment = int64Arg(incrementText);
  const hash = writeHash(ctx, key);
  const stored = hash.get(field);
  const value = stored === undefined ? 0n : parseInt64(stored);
  if (value === undefined) throw new CommandError("ERR hash value is not an integer");
  const result = value + increment;
  if (result > INT64_MAX || result < INT64_MIN) throw new CommandError(INCR_OVERFLOW);
  hash.set(field, result.toString());
  return Number(result);
}

function hincrbyfloat(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", field = "", incrementText = ""] = argv;
  const increment = parseDouble(incrementText);
  if (increment === undefined) throw new CommandError(NOT_A_FLOAT);
  if (!Number.isFinite(increment)) throw new CommandError("ERR value is NaN or Infinity");
  const hash = writeHash(ctx, key);
  const stored = hash.get(field);
  const value = stored === undefined ? 0 : parseDouble(stored);
  if (value === undefined) throw new CommandError("ERR hash value is not a float");
  const result = value + increment;
  if (!Number.isFinite(result)) throw new CommandError("ERR increment would produce NaN or Infinity");
  const text = formatHumanDouble(result);
  hash.set(field, text);
  return text;
}

function hdel(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const key = argv[1] as Bin;
  return ctx.db.removeMembers(key, readHash(ctx, key), argv.slice(2));
}

function hscan(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const options = parseScan(argv, 2, false);
  const hash = readHash(ctx, argv[1] as Bin);
  const entries = [...(hash ?? new Map<Bin, Bin>())];
  const compact =
    entries.length <= LISTPACK_ENTRIES &&
    entries.every(([field, value]) => field.length <= LISTPACK_VALUE && value.length <= LISTPACK_VALUE);
  return scanItems(
    entries,
    options,
    compact,
    ([field]) => field,
    ([field, value]) => [field, value],
  );
}

export const HASH_COMMANDS: readonly CommandSpec[] = [
  command(
    "hset",
    -4,
    ["write"],
    hset("hset", (added) => added),
  ),
  command(
    "hmset",
    -4,
    ["write"],
    hset("hmset", () => OK),
  ),
  command("hsetnx", 4, ["write"], (ctx, [, key = "", field = "", value = ""]) => {
    const hash = writeHash(ctx, key);
    if (hash.has(field)) return 0;
    hash.set(field, value);
    return 1;
  }),
  command("hget", 3, [], (ctx, [, key = "", field = ""]) => readHash(ctx, key)?.get(field) ?? null),
  command("hmget", -3, [], (ctx, argv) => {
    const hash = readHash(ctx, argv[1] as Bin);
    return argv.slice(2).map((field) => hash?.get(field) ?? null);
  }),
  command("hgetall", 2, [], (ctx, [, key = ""]) => [...(readHash(ctx, key) ?? [])].flat()),
  command("hkeys", 2, [], (ctx, [, key = ""]) => [...(readHash(ctx, key)?.keys() ?? [])]),
  command("hvals", 2, [], (ctx, [, key = ""]) => [...(readHash(ctx, key)?.values() ?? [])]),
  command("hlen", 2, [], (ctx, [, key = ""]) => readHash(ctx, key)?.size ?? 0),
  command("hexists", 3, [], (ctx, [, key = "", field = ""]) => (readHash(ctx, key)?.has(field) ? 1 : 0)),
  command("hstrlen", 3, [], (ctx, [, key = "", field = ""]) => readHash(ctx, key)?.get(field)?.length ?? 0),
  command("hdel", -3, ["write"], hdel),
  command("hincrby", 4, ["write"], hincrby),
  command("hincrbyfloat", 4, ["write"], hincrbyfloat),
  command("hscan", -3, [], hscan),
];
