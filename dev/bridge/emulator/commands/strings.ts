/** String commands. */
import { int64Arg, integerArg } from "../args";
import type { Bin } from "../bytes";
import { type CommandSpec, command, type ExecContext } from "../command";
import { arityError, CommandError, expireTimeError, INCR_OVERFLOW, NOT_A_FLOAT, SYNTAX } from "../errors";
import type { Keyspace } from "../keyspace";
import { formatHumanDouble, INT64_MAX, INT64_MIN, parseDouble } from "../numbers";
import { OK, type Reply } from "../reply";

const MS_PER_SECOND = 1000n;

function setString(db: Keyspace, key: Bin, value: Bin, keepTtl = false): void {
  db.write(key, { type: "string", value }, keepTtl);
}

type ExpireUnit = "EX" | "PX" | "EXAT" | "PXAT";

/** getExpireMillisecondsOrReply: the absolute time (ms) an EX/PX/EXAT/PXAT argument means. */
function expireAt(ctx: ExecContext, unit: ExpireUnit, text: Bin, commandName: string): number {
  const amount = int64Arg(text);
  if (amount <= 0n || ((unit === "EX" || unit === "EXAT") && amount > INT64_MAX / MS_PER_SECOND)) {
    throw expireTimeError(commandName);
  }
  let ms = unit === "EX" || unit === "EXAT" ? amount * MS_PER_SECOND : amount;
  if (unit === "EX" || unit === "PX") ms += BigInt(ctx.now);
  if (ms <= 0n || ms > INT64_MAX) throw expireTimeError(commandName);
  return Number(ms);
}

interface StringOptions {
  nx?: boolean;
  xx?: boolean;
  get?: boolean;
  keepTtl?: boolean;
  persist?: boolean;
  expire?: { unit: ExpireUnit; text: Bin };
}

/** parseExtendedStringArgumentsOrReply: SET's options from index 3, GETEX's from 2. */
function parseStringOptions(argv: readonly Bin[], forSet: boolean): StringOptions {
  const options: StringOptions = {};
  const hasTime = () => options.expire !== undefined;
  for (let j = forSet ? 3 : 2; j < argv.length; j++) {
    const option = (argv[j] as Bin).toUpperCase();
    const next = argv[j + 1];
    if (forSet && option === "NX" && !options.xx) options.nx = true;
    else if (forSet && option === "XX" && !options.nx) options.xx = true;
    else if (forSet && option === "GET") options.get = true;
    else if (forSet && option === "KEEPTTL" && !options.persist && !hasTime()) options.keepTtl = true;
    else if (!forSet && option === "PERSIST" && !hasTime() && !options.keepTtl) options.persist = true;
    else if (
      (option === "EX" || option === "PX" || option === "EXAT" || option === "PXAT") &&
      !options.keepTtl &&
      !options.persist &&
      !hasTime() &&
      next !== undefined
    ) {
      options.expire = { unit: option, text: next };
      j++;
    } else throw new CommandError(SYNTAX);
  }
  return options;
}

function stringValue(db: Keyspace, key: Bin): Bin | undefined {
  return db.read(key, "string");
}

function set(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", value = ""] = argv;
  const options = parseStringOptions(argv, true);
  const at = options.expire ? expireAt(ctx, options.expire.unit, options.expire.text, "set") : undefined;
  const previous = options.get ? (stringValue(ctx.db, key) ?? null) : undefined;
  const found = ctx.db.lookup(key) !== undefined;
  if ((options.nx && found) || (options.xx && !found)) return options.get ? (previous ?? null) : null;
  setString(ctx.db, key, value, options.keepTtl);
  if (at !== undefined) ctx.db.setExpireTime(key, at);
  return options.get ? (previous ?? null) : OK;
}

function setWithTime(unit: "EX" | "PX", name: string) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const [, key = "", time = "", value = ""] = argv;
    const at = expireAt(ctx, unit, time, name);
    setString(ctx.db, key, value);
    ctx.db.setExpireTime(key, at);
    return OK;
  };
}

function getex(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const key = argv[1] as Bin;
  const options = parseStringOptions(argv, false);
  const value = stringValue(ctx.db, key);
  if (value === undefined) return null;
  if (options.expire) {
    const at = expireAt(ctx, options.expire.unit, options.expire.text, "getex");
    ctx.db.setExpireTime(key, at);
  } else if (options.persist) ctx.db.persist(key);
  return value;
}

function incrementBy(ctx: ExecContext, key: Bin, increment: bigint): Reply {
  const current = stringValue(ctx.db, key);
  const value = current === undefined ? 0n : int64Arg(current);
  const result = value + increment;
  if (result > INT64_MAX || result < INT64_MIN) throw new CommandError(INCR_OVERFLOW);
  setString(ctx.db, key, result.toString(), true);
  return Number(result);
}

function incrbyfloat(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", incrementText = ""] = argv;
  const current = stringValue(ctx.db, key);
  const value = current === undefined ? 0 : parseDouble(current);
  const increment = parseDouble(incrementText);
  if (value === undefined || increment === undefined) throw new CommandError(NOT_A_FLOAT);
  const result = value + increment;
  if (!Number.isFinite(result)) throw new CommandError("ERR increment would produce NaN or Infinity");
  const text = formatHumanDouble(result);
  setString(ctx.db, key, text, true);
  return text;
}

function append(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", suffix = ""] = argv;
  const value = (stringValue(ctx.db, key) ?? "") + suffix;
  setString(ctx.db, key, value, true);
  return value.length;
}

function getrange(ctx: ExecContext, argv: readonly Bin[]): Reply {
  let start = integerArg(argv[2] as Bin);
  let end = integerArg(argv[3] as Bin);
  const value = stringValue(ctx.db, argv[1] as Bin) ?? "";
  const length = value.length;
  if (start < 0 && end < 0 && start > end) return "";
  if (start < 0) start += length;
  if (end < 0) end += length;
  start = Math.max(0, start);
  end = Math.min(Math.max(0, end), length - 1);
  return start > end || length === 0 ? "" : value.slice(start, end + 1);
}

function setrange(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const [, key = "", offsetText = "", patch = ""] = argv;
  const offset = integerArg(offsetText);
  if (offset < 0) throw new CommandError("ERR offset is out of range");
  const current = stringValue(ctx.db, key);
  if (patch.length === 0) return current?.length ?? 0;
  if (offset + patch.length > 512 * 1024 * 1024) {
    throw new CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
  const base = (current ?? "").padEnd(offset, "\0");
  const value = base.slice(0, offset) + patch + base.slice(offset + patch.length);
  setString(ctx.db, key, value, true);
  return value.length;
}

function mset(onlyIfNoneExist: boolean, name: string) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    if (argv.length % 2 === 0) throw arityError(name);
    if (onlyIfNoneExist) {
      for (let j = 1; j < argv.length; j += 2) if (ctx.db.lookup(argv[j] as Bin)) return 0;
    }
    for (let j = 1; j < argv.length; j += 2) setString(ctx.db, argv[j] as Bin, argv[j + 1] as Bin);
    return onlyIfNoneExist ? 1 : OK;
  };
}

export const STRING_COMMANDS: readonly CommandSpec[] = [
  command("get", 2, [], (ctx, argv) => stringValue(ctx.db, argv[1] as Bin) ?? null),
  command("set", -3, ["write"], set),
  command("setnx", 3, ["write"], (ctx, [, key = "", value = ""]) => {
    if (ctx.db.lookup(key)) return 0;
    setString(ctx.db, key, value);
    return 1;
  }),
  command("setex", 4, ["write"], setWithTime("EX", "setex")),
  command("psetex", 4, ["write"], setWithTime("PX", "psetex")),
  command("getset", 3, ["write"], (ctx, [, key = "", value = ""]) => {
    const previous = stringValue(ctx.db, key) ?? null;
    setString(ctx.db, key, value);
    return previous;
  }),
  command("getdel", 2, ["write"], (ctx, [, key = ""]) => {
    const value = stringValue(ctx.db, key);
    if (value === undefined) return null;
    ctx.db.remove(key);
    return value;
  }),
  command("getex", -2, ["write"], getex),
  command("mget", -2, [], (ctx, argv) =>
    argv.slice(1).map((key) => {
      const found = ctx.db.lookup(key);
      return found?.type === "string" ? found.value : null;
    }),
  ),
  command("mset", -3, ["write"], mset(false, "mset")),
  command("msetnx", -3, ["write"], mset(true, "msetnx")),
  command("incr", 2, ["write"], (ctx, argv) => incrementBy(ctx, argv[1] as Bin, 1n)),
  command("decr", 2, ["write"], (ctx, argv) => incrementBy(ctx, argv[1] as Bin, -1n)),
  command("incrby", 3, ["write"], (ctx, argv) => incrementBy(ctx, argv[1] as Bin, int64Arg(argv[2] as Bin))),
  command("decrby", 3, ["write"], (ctx, argv) => {
    const decrement = int64Arg(argv[2] as Bin);
    if (decrement === INT64_MIN) throw new CommandError("ERR decrement would overflow");
    return incrementBy(ctx, argv[1] as Bin, -decrement);
  }),
  command("incrbyfloat", 3, ["write"], incrbyfloat),
  command("append", 3, ["write"], append),
  command("strlen", 2, [], (ctx, argv) => stringValue(ctx.db, argv[1] as Bin)?.length ?? 0),
  command("getrange", 4, [], getrange),
  command("setrange", 4, ["write"], setrange),
];
