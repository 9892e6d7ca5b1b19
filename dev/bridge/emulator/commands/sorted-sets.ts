/** Sorted-set commands. */
import { floatArg, integerArg, isOption } from "../args";
import type { Bin } from "../bytes";
import { type CommandSpec, command, type ExecContext } from "../command";
import { CommandError, OUT_OF_RANGE, SYNTAX } from "../errors";
import { formatScore } from "../numbers";
import type { Reply } from "../reply";
import { parseScan, scanItems } from "../scan";
import { type LexBound, type ScoreBound, SortedSet, type ZEntry } from "../sorted-set";
import { rankRange } from "./lists";

/** zset-max-listpack-entries / -value: a sorted set this small is a listpack, which ZSCAN answers whole. */
const LISTPACK_ENTRIES = 128;
const LISTPACK_VALUE = 64;

const readZset = (ctx: ExecContext, key: Bin) => ctx.db.read(key, "zset");

/** zslParseRange: strtod over the whole text (after an optional `(`), NaN refused. */
function parseScoreBound(text: Bin): ScoreBound | undefined {
  const exclusive = text.startsWith("(");
  const number = exclusive ? text.slice(1) : text;
  // strtod skips leading space and reads "" as 0 (eptr stays on the terminator).
  const trimmed = number.replace(/^[ \t\n\v\f\r]+/, "");
  if (trimmed !== number && trimmed === "") return undefined;
  if (trimmed === "") return { value: 0, exclusive };
  const infinity = /^([+-]?)inf(inity)?$/i.exec(trimmed);
  if (infinity) {
    return { value: infinity[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, exclusive };
  }
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(trimmed)) return undefined;
  return { value: Number(trimmed), exclusive };
}

function scoreRange(minText: Bin, maxText: Bin): [ScoreBound, ScoreBound] {
  const min = parseScoreBound(minText);
  const max = parseScoreBound(maxText);
  if (!min || !max) throw new CommandError("ERR min or max is not a float");
  return [min, max];
}

function parseLexBound(text: Bin): LexBound | undefined {
  if (text === "+") return { kind: "max" };
  if (text === "-") return { kind: "min" };
  if (text.startsWith("(")) return { kind: "value", value: text.slice(1), exclusive: true };
  if (text.startsWith("[")) return { kind: "value", value: text.slice(1), exclusive: false };
  return undefined;
}

function lexRange(minText: Bin, maxText: Bin): [LexBound, LexBound] {
  const min = parseLexBound(minText);
  const max = parseLexBound(maxText);
  if (!min || !max) throw new CommandError("ERR min or max not valid string range item");
  return [min, max];
}

function entriesReply(entries: readonly ZEntry[], withScores: boolean): Reply {
  return withScores
    ? entries.flatMap((entry) => [entry.member, formatScore(entry.score)])
    : entries.map((entry) => entry.member);
}

function zadd(forceIncrement: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    let nx = false;
    let xx = false;
    let gt = false;
    let lt = false;
    let ch = false;
    let incr = forceIncrement;
    let index = 2;
    for (; index < argv.length; index++) {
      const option = (argv[index] as Bin).toUpperCase();
      if (option === "NX") nx = true;
      else if (option === "XX") xx = true;
      else if (option === "CH") ch = true;
      else if (option === "INCR") incr = true;
      else if (option === "GT") gt = true;
      else if (option === "LT") lt = true;
      else break;
    }
    const pairs = argv.length - index;
    if (pairs === 0 || pairs % 2 === 1) throw new CommandError(SYNTAX);
    if (nx && xx) throw new CommandError("ERR XX and NX options at the same time are not compatible");
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
      throw new CommandError("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if (incr && pairs > 2) throw new CommandError("ERR INCR option supports a single increment-element pair");
    const scores: number[] = [];
    for (let j = index; j < argv.length; j += 2) scores.push(floatArg(argv[j] as Bin));
    const key = argv[1] as Bin;
    let zset = readZset(ctx, key);
    if (!zset) {
      if (xx) return incr ? null : 0;
      zset = ctx.db.readOrCreate(key, "zset", () => new SortedSet());
    }
    let added = 0;
    let updated = 0;
    let processed = 0;
    let score = 0;
    for (let j = 0; j < scores.length; j++) {
      const member = argv[index + 2 * j + 1] as Bin;
      score = scores[j] as number;
      const current = zset.score(member);
      if (current !== undefined) {
        if (nx) continue;
        if (incr) {
          score += current;
          if (Number.isNaN(score)) throw new CommandError("ERR resulting score is not a number (NaN)");
        }
        if ((lt && score >= current) || (gt && score <= current)) continue;
        processed++;
        if (score !== current) {
          zset.set(member, score);
          updated++;
        }
      } else {
        if (xx) continue;
        zset.set(member, score);
        added++;
        processed++;
      }
    }
    ctx.db.removeIfEmpty(key, zset.size);
    if (incr) return processed ? formatScore(score) : null;
    return ch ? added + updated : added;
  };
}

type RangeType = "auto" | "rank" | "score" | "lex";
type Direction = "auto" | "forward" | "reverse";

/** zrangeGenericCommand: ZRANGE and its older spellings, `start` being the key's index. */
function zrange(start: number, fixedType: RangeType, fixedDirection: Direction) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    let rangeType = fixedType;
    let direction = fixedDirection;
    let withScores = false;
    let offset = 0;
    let limit = -1;
    for (let j = start + 3; j < argv.length; j++) {
      const option = argv[j] as Bin;
      if (isOption(option, "WITHSCORES")) withScores = true;
      else if (isOption(option, "LIMIT") && argv.length - j - 1 >= 2) {
        offset = integerArg(argv[j + 1] as Bin);
        limit = integerArg(argv[j + 2] as Bin);
        j += 2;
      } else if (direction === "auto" && isOption(option, "REV")) direction = "reverse";
      else if (rangeType === "auto" && isOption(option, "BYLEX")) rangeType = "lex";
      else if (rangeType === "auto" && isOption(option, "BYSCORE")) rangeType = "score";
      else throw new CommandError(SYNTAX);
    }
    const reverse = direction === "reverse";
    const type = rangeType === "auto" ? "rank" : rangeType;
    if (limit !== -1 && type === "rank") {
      throw new CommandError(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
      );
    }
    if (withScores && type === "lex") {
      throw new CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let minText = argv[start + 1] as Bin;
    let maxText = argv[start + 2] as Bin;
    if (reverse && type !== "rank") [minText, maxText] = [maxText, minText];
    let bounds: [number, number] | undefined;
    let scores: [ScoreBound, ScoreBound] | undefined;
    let lex: [LexBound, LexBound] | undefined;
    if (type === "rank") bounds = [integerArg(minText), integerArg(maxText)];
    else if (type === "score") scores = scoreRange(minText, maxText);
    else lex = lexRange(minText, maxText);
    const zset = readZset(ctx, argv[start] as Bin);
    if (!zset) return [];
    if (bounds) {
      const [from, to] = rankRange(bounds[0], bounds[1], zset.size);
      const picked = reverse ? zset.slice(zset.size - to, zset.size - from).reverse() : zset.slice(from, to);
      return entriesReply(picked, withScores);
    }
    if (offset > 0 && offset >= zset.size) return [];
    const [from, to] = scores ? zset.scoreRange(...scores) : zset.lexRange(...(lex as [LexBound, LexBound]));
    let picked = zset.slice(from, to);
    if (reverse) picked.reverse();
    // Redis skips `offset` entries (a negative one skips them all) and stops after `limit` (negative: no limit).
    picked = offset < 0 ? [] : picked.slice(offset);
    if (limit >= 0) picked = picked.slice(0, limit);
    return entriesReply(picked, withScores);
  };
}

function zrem(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const key = argv[1] as Bin;
  return ctx.db.removeMembers(key, readZset(ctx, key), argv.slice(2));
}

function zrank(reverse: boolean) {
  return (ctx: ExecContext, [, key = "", member = ""]: readonly Bin[]): Reply => {
    const zset = readZset(ctx, key);
    const rank = zset?.rank(member);
    if (!zset || rank === undefined) return null;
    return reverse ? zset.size - 1 - rank : rank;
  };
}

function zpop(max: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    if (argv.length > 3) throw new CommandError(SYNTAX);
    const count = argv[2] === undefined ? 1 : integerArg(argv[2]);
    if (count < 0) throw new CommandError(OUT_OF_RANGE);
    const key = argv[1] as Bin;
    const zset = readZset(ctx, key);
    if (!zset) return [];
    const taken = max
      ? zset.slice(Math.max(0, zset.size - count), zset.size).reverse()
      : zset.slice(0, count);
    for (const entry of taken) zset.delete(entry.member);
    ctx.db.removeIfEmpty(key, zset.size);
    return entriesReply(taken, true);
  };
}

function zremrange(kind: "rank" | "score" | "lex") {
  return (ctx: ExecContext, [, key = "", minText = "", maxText = ""]: readonly Bin[]): Reply => {
    const bounds =
      kind === "rank"
        ? ([integerArg(minText), integerArg(maxText)] as const)
        : kind === "score"
          ? scoreRange(minText, maxText)
          : lexRange(minText, maxText);
    const zset = readZset(ctx, key);
    if (!zset) return 0;
    const [from, to] =
      kind === "rank"
        ? rankRange(bounds[0] as number, bounds[1] as number, zset.size)
        : kind === "score"
          ? zset.scoreRange(...(bounds as [ScoreBound, ScoreBound]))
          : zset.lexRange(...(bounds as [LexBound, LexBound]));
    const removed = zset.slice(from, to);
    for (const entry of removed) zset.delete(entry.member);
    ctx.db.removeIfEmpty(key, zset.size);
    return removed.length;
  };
}

function zscan(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const options = parseScan(argv, 2, false);
  const entries = [...(readZset(ctx, argv[1] as Bin) ?? [])];
  const compact =
    entries.length <= LISTPACK_ENTRIES && entries.every((entry) => entry.member.length <= LISTPACK_VALUE);
  return scanItems(
    entries,
    options,
    compact,
    (entry) => entry.member,
    (entry) => [entry.member, formatScore(entry.score)],
  );
}

export const SORTED_SET_COMMANDS: readonly CommandSpec[] = [
  command("zadd", -4, ["write"], zadd(false)),
  command("zincrby", 4, ["write"], zadd(true)),
  command("zscore", 3, [], (ctx, [, key = "", member = ""]) => {
    const score = readZset(ctx, key)?.score(member);
    return score === undefined ? null : formatScore(score);
  }),
  command("zmscore", -3, [], (ctx, argv) => {
    const zset = readZset(ctx, argv[1] as Bin);
    return argv.slice(2).map((member) => {
      const score = zset?.score(member);
      return score === undefined ? null : formatScore(score);
    });
  }),
  command("zrem", -3, ["write"], zrem),
  command("zcard", 2, [], (ctx, [, key = ""]) => readZset(ctx, key)?.size ?? 0),
  command("zcount", 4, [], (ctx, [, key = "", min = "", max = ""]) => {
    const range = scoreRange(min, max);
    const [from, to] = readZset(ctx, key)?.scoreRange(...range) ?? [0, 0];
    return to - from;
  }),
  command("zlexcount", 4, [], (ctx, [, key = "", min = "", max = ""]) => {
    const range = lexRange(min, max);
    const [from, to] = readZset(ctx, key)?.lexRange(...range) ?? [0, 0];
    return to - from;
  }),
  command("zrange", -4, [], zrange(1, "auto", "auto")),
  command("zrevrange", -4, [], zrange(1, "rank", "reverse")),
  command("zrangebyscore", -4, [], zrange(1, "score", "forward")),
  command("zrevrangebyscore", -4, [], zrange(1, "score", "reverse")),
  command("zrangebylex", -4, [], zrange(1, "lex", "forward")),
  command("zrevrangebylex", -4, [], zrange(1, "lex", "reverse")),
  command("zrank", 3, [], zrank(false)),
  command("zrevrank", 3, [], zrank(true)),
  command("zpopmin", -2, ["write"], zpop(false)),
  command("zpopmax", -2, ["write"], zpop(true)),
  command("zremrangebyrank", 4, ["write"], zremrange("rank")),
  command("zremrangebyscore", 4, ["write"], zremrange("score")),
  command("zremrangebylex", 4, ["write"], zremrange("lex")),
  command("zscan", -3, [], zscan),
];
