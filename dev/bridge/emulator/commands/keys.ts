/** Keyspace and expiry commands. */
import { int64Arg } from "../args";
import type { Bin } from "../bytes";
import { type CommandSpec, command, type ExecContext } from "../command";
import { CommandError, expireTimeError, NO_SUCH_KEY } from "../errors";
import { INT64_MAX, INT64_MIN } from "../numbers";
import { OK, type Reply, StatusReply } from "../reply";
import { matches, parseScan } from "../scan";

type ExpireFlag = "NX" | "XX" | "GT" | "LT";

function parseExpireFlags(argv: readonly Bin[]): Set<ExpireFlag> {
  const flags = new Set<ExpireFlag>();
  for (const text of argv.slice(3)) {
    const option = text.toUpperCase();
    if (option === "NX" || option === "XX" || option === "GT" || option === "LT") flags.add(option);
    else throw new CommandError(`ERR Unsupported option ${text.split("\0")[0]}`);
  }
  if (flags.has("NX") && (flags.has("XX") || flags.has("GT") || flags.has("LT"))) {
    throw new CommandError("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (flags.has("GT") && flags.has("LT")) {
    throw new CommandError("ERR GT and LT options at the same time are not compatible");
  }
  return flags;
}

/** expireGenericCommand: `relative` adds the current time, `seconds` scales the argument. */
function expire(name: string, seconds: boolean, relative: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const key = argv[1] as Bin;
    const flags = parseExpireFlags(argv);
    let when = int64Arg(argv[2] as Bin);
    if (seconds) {
      if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw expireTimeError(name);
      when *= 1000n;
    }
    const base = relative ? BigInt(ctx.now) : 0n;
    if (when > INT64_MAX - base) throw expireTimeError(name);
    const at = Number(when + base);
    if (!ctx.db.lookup(key)) return 0;
    const current = ctx.db.expireTime(key);
    if (flags.has("NX") && current !== undefined) return 0;
    if (flags.has("XX") && current === undefined) return 0;
    if (flags.has("GT") && (current === undefined || at <= current)) return 0;
    if (flags.has("LT") && current !== undefined && at >= current) return 0;
    ctx.db.setExpireTime(key, at);
    return 1;
  };
}

/** TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 without the key, -1 without a time. */
function timeLeft(transform: (at: number, now: number) => number) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const key = argv[1] as Bin;
    if (!ctx.db.lookup(key)) return -2;
    const at = ctx.db.expireTime(key);
    return at === undefined ? -1 : transform(at, ctx.now);
  };
}

function countKeys(keys: readonly Bin[], act: (key: Bin) => boolean): number {
  let count = 0;
  for (const key of keys) if (act(key)) count++;
  return count;
}

function scan(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const options = parseScan(argv, 1, true);
  const { next, keys } = ctx.db.scan(options.cursor, options.count);
  const found = keys.filter(
    (key) =>
      matches(options.match, key) &&
      (options.type === undefined || ctx.db.lookup(key)?.type === options.type.toLowerCase()),
  );
  return [String(next), found];
}

function rename(onlyIfFree: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const [, source = "", target = ""] = argv;
    const value = ctx.db.lookup(source);
    if (!value) throw new CommandError(NO_SUCH_KEY);
    if (source === target) return onlyIfFree ? 0 : OK;
    if (onlyIfFree && ctx.db.lookup(target)) return 0;
    const at = ctx.db.expireTime(source);
    ctx.db.remove(source);
    ctx.db.write(target, value);
    if (at !== undefined) ctx.db.keepExpireTime(target, at);
    return onlyIfFree ? 1 : OK;
  };
}

function flush(ctx: ExecContext, argv: readonly Bin[]): Reply {
  if (argv.length > 2 || (argv[1] !== undefined && !/^(a?sync)$/i.test(argv[1]))) {
    throw new CommandError("ERR syntax error");
  }
  ctx.db.flush();
  return OK;
}

export const KEY_COMMANDS: readonly CommandSpec[] = [
  command("del", -2, ["write"], (ctx, argv) => countKeys(argv.slice(1), (key) => ctx.db.remove(key))),
  command("unlink", -2, ["write"], (ctx, argv) => countKeys(argv.slice(1), (key) => ctx.db.remove(key))),
  command("exists", -2, [], (ctx, argv) => countKeys(argv.slice(1), (key) => !!ctx.db.lookup(key))),
  command("touch", -2, [], (ctx, argv) => countKeys(argv.slice(1), (key) => !!ctx.db.lookup(key))),
  command("type", 2, [], (ctx, argv) => new StatusReply(ctx.db.lookup(argv[1] as Bin)?.type ?? "none")),
  command(
    "ttl",
    2,
    [],
    timeLeft((at, now) => Math.floor((Math.max(0, at - now) + 500) / 1000)),
  ),
  command(
    "pttl",
    2,
    [],
    timeLeft((at, now) => Math.max(0, at - now)),
  ),
  command(
    "expiretime",
    2,
    [],
    timeLeft((at) => Math.floor(at / 1000)),
  ),
  command(
    "pexpiretime",
    2,
    [],
    timeLeft((at) => at),
  ),
  command("expire", -3, ["write"], expire("expire", true, true)),
  command("pexpire", -3, ["write"], expire("pexpire", false, true)),
  command("expireat", -3, ["write"], expire("expireat", true, false)),
  command("pexpireat", -3, ["write"], expire("pexpireat", false, false)),
  command("persist", 2, ["write"], (ctx, [, key = ""]) =>
    ctx.db.lookup(key) && ctx.db.persist(key) ? 1 : 0,
  ),
  command("scan", -2, [], scan),
  command("keys", 2, [], (ctx, [, pattern = ""]) =>
    [...ctx.db.keys()].filter((key) => matches(pattern, key)),
  ),
  command("dbsize", 1, [], (ctx) => ctx.db.size),
  command("randomkey", 1, [], (ctx) => {
    const keys = [...ctx.db.keys()];
    return keys.length === 0 ? null : (keys[Math.floor(Math.random() * keys.length)] as Bin);
  }),
  command("rename", 3, ["write"], rename(false)),
  command("renamenx", 3, ["write"], rename(true)),
  command("flushdb", -1, ["write"], flush),
  command("flushall", -1, ["write"], flush),
];
