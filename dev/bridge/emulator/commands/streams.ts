/** Stream commands, consumer groups aside. */
import { int64Arg, isOption } from "../args";
import type { Bin } from "../bytes";
import { type CommandSpec, command, container, type ExecContext } from "../command";
import {
  arityError,
  CommandError,
  INVALID_STREAM_ID,
  NO_SUCH_KEY,
  SYNTAX,
  subcommandSyntaxError,
} from "../errors";
import type { Reply } from "../reply";
import {
  compareIds,
  formatId,
  MAX_ID,
  MIN_ID,
  nextIdAfter,
  previousIdBefore,
  Stream,
  type StreamEntry,
  type StreamId,
  type TrimOptions,
  type TrimStrategy,
  UINT64_MAX,
} from "../stream";

/** The LIMIT `~` trimming gets when none is given: 100 × stream-node-max-entries. */
const DEFAULT_APPROX_LIMIT = 100 * 100;

const readStream = (ctx: ExecContext, key: Bin) => ctx.db.read(key, "stream");

function parseUint64(text: string): bigint | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value > UINT64_MAX ? undefined : value;
}

interface ParsedId {
  readonly id: StreamId;
  /** False for `<ms>-*` (XADD picks the sequence). */
  readonly seqGiven: boolean;
}

/** streamGenericParseIDOrReply: `ms-seq`, `ms` (seq = missingSeq), `-` / `+` unless strict. */
function parseId(text: Bin, missingSeq: bigint, strict: boolean, allowSeqStar = false): ParsedId {
  if (text.length > 127) throw new CommandError(INVALID_STREAM_ID);
  if (text === "-" || text === "+") {
    if (strict) throw new CommandError(INVALID_STREAM_ID);
    return { id: text === "-" ? MIN_ID : MAX_ID, seqGiven: true };
  }
  const dash = text.indexOf("-");
  const ms = parseUint64(dash < 0 ? text : text.slice(0, dash));
  if (ms === undefined) throw new CommandError(INVALID_STREAM_ID);
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const seqText = text.slice(dash + 1);
  if (allowSeqStar && seqText === "*") return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = parseUint64(seqText);
  if (seq === undefined) throw new CommandError(INVALID_STREAM_ID);
  return { id: { ms, seq }, seqGiven: true };
}

/** streamParseIntervalIDOrReply: a `(` before the id excludes it. */
function parseIntervalId(text: Bin, missingSeq: bigint): { id: StreamId; exclusive: boolean } {
  const exclusive = text.length > 1 && text.startsWith("(");
  if (exclusive) return { id: parseId(text.slice(1), missingSeq, true).id, exclusive };
  return { id: parseId(text, missingSeq, false).id, exclusive };
}

function entryReply(entry: StreamEntry): Reply {
  return [formatId(entry.id), [...entry.fields]];
}

interface AddTrimArgs {
  trim?: TrimOptions;
  noMkStream: boolean;
  id?: ParsedId;
  /** Index of the ID argument (XADD). */
  idIndex: number;
}

/** streamParseAddOrTrimArgsOrReply. */
function parseAddOrTrim(argv: readonly Bin[], xadd: boolean): AddTrimArgs {
  let strategy: TrimStrategy | undefined;
  let approximate = false;
  let limit: number | undefined;
  let noMkStream = false;
  let id: ParsedId | undefined;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const option = argv[i] as Bin;
    if (xadd && option === "*") break;
    if ((isOption(option, "MAXLEN") || isOption(option, "MINID")) && more > 0) {
      if (strategy) {
        throw new CommandError(
          "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
        );
      }
      approximate = false;
      const next = argv[i + 1];
      if (more >= 2 && next === "~") {
        approximate = true;
        i++;
      } else if (more >= 2 && next === "=") i++;
      const threshold = argv[i + 1] as Bin;
      if (isOption(option, "MAXLEN")) {
        const maxlen = Number(int64Arg(threshold));
        if (maxlen < 0) throw new CommandError("ERR The MAXLEN argument must be >= 0.");
        strategy = { kind: "maxlen", maxlen };
      } else {
        strategy = { kind: "minid", minid: parseId(threshold, 0n, true).id };
      }
      i++;
    } else if (isOption(option, "LIMIT") && more > 0) {
      limit = Number(int64Arg(argv[i + 1] as Bin));
      if (limit < 0) throw new CommandError("ERR The LIMIT argument must be >= 0.");
      i++;
    } else if (xadd && isOption(option, "NOMKSTREAM")) {
      noMkStream = true;
    } else if (xadd) {
      id = parseId(option, 0n, true, true);
      break;
    } else throw new CommandError(SYNTAX);
  }
  if (limit && !strategy) {
    throw new CommandError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  }
  if (!xadd && !strategy)
    throw new CommandError("ERR syntax error, XTRIM must be called with a trimming strategy");
  if (limit !== undefined && !approximate) {
    throw new CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option");
  }
  const trim = strategy
    ? { strategy, approximate, limit: limit ?? (approximate ? DEFAULT_APPROX_LIMIT : 0) }
    : undefined;
  return { ...(trim ? { trim } : {}), noMkStream, ...(id ? { id } : {}), idIndex: i };
}

function xadd(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const parsed = parseAddOrTrim(argv, true);
  const fieldStart = parsed.idIndex + 1;
  const fieldCount = argv.length - fieldStart;
  if (fieldCount < 2 || fieldCount % 2 === 1) throw arityError("xadd");
  const given = parsed.id;
  if (given?.seqGiven && given.id.ms === 0n && given.id.seq === 0n) {
    throw new CommandError("ERR The ID specified in XADD must be greater than 0-0");
  }
  const key = argv[1] as Bin;
  const existing = readStream(ctx, key);
  if (!existing && parsed.noMkStream) return null;
  const stream = existing ?? ctx.db.readOrCreate(key, "stream", () => new Stream());
  if (stream.lastId.ms === UINT64_MAX && stream.lastId.seq === UINT64_MAX) {
    throw new CommandError("ERR The stream has exhausted the last possible ID, unable to add more items");
  }
  let id: StreamId | undefined;
  if (!given) id = stream.autoId(ctx.now);
  else if (given.seqGiven) id = given.id;
  else id = stream.lastId.ms === given.id.ms ? nextIdAfter(stream.lastId) : given.id;
  if (!id || compareIds(id, stream.lastId) <= 0) {
    throw new CommandError(
      "ERR The ID specified in XADD is equal or smaller than the target stream top item",
    );
  }
  stream.append(id, argv.slice(fieldStart));
  if (parsed.trim) stream.trim(parsed.trim);
  return formatId(id);
}

function xrange(reverse: boolean) {
  return (ctx: ExecContext, argv: readonly Bin[]): Reply => {
    const startArg = (reverse ? argv[3] : argv[2]) as Bin;
    const endArg = (reverse ? argv[2] : argv[3]) as Bin;
    const start = parseIntervalId(startArg, 0n);
    let startId: StreamId | undefined = start.id;
    if (start.exclusive) {
      startId = nextIdAfter(start.id);
      if (!startId) throw new CommandError("ERR invalid start ID for the interval");
    }
    const end = parseIntervalId(endArg, UINT64_MAX);
    let endId: StreamId | undefined = end.id;
    if (end.exclusive) {
      endId = previousIdBefore(end.id);
      if (!endId) throw new CommandError("ERR invalid end ID for the interval");
    }
    let count = -1;
    for (let j = 4; j < argv.length; j++) {
      if (isOption(argv[j], "COUNT") && argv.length - j - 1 >= 1) {
        count = Math.max(0, Number(int64Arg(argv[j + 1] as Bin)));
        j++;
      } else throw new CommandError(SYNTAX);
    }
    const stream = readStream(ctx, argv[1] as Bin);
    if (!stream) return [];
    if (count === 0) return null;
    return stream.range(startId, endId, Math.max(count, 0), reverse).map(entryReply);
  };
}

function xdel(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const stream = readStream(ctx, argv[1] as Bin);
  if (!stream) return 0;
  const ids = argv.slice(2).map((text) => parseId(text, 0n, true).id);
  let deleted = 0;
  let firstDeleted = false;
  for (const id of ids) {
    if (!stream.delete(id)) continue;
    if (compareIds(id, stream.firstId) === 0) firstDeleted = true;
    deleted++;
  }
  if (deleted && (stream.length === 0 || firstDeleted)) stream.refreshFirstId();
  return deleted;
}

function xtrim(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const { trim } = parseAddOrTrim(argv, false);
  const stream = readStream(ctx, argv[1] as Bin);
  return stream && trim ? stream.trim(trim) : 0;
}

function xread(ctx: ExecContext, argv: readonly Bin[]): Reply {
  let count = 0;
  let streamsAt = 0;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const option = argv[i] as Bin;
    if (isOption(option, "BLOCK") && more) {
      if (ctx.inScript) {
        throw new CommandError(`ERR ${argv[0]} command is not allowed with BLOCK option from scripts`);
      }
      // Never blocks: the bridge refuses BLOCK, and a dev store has no other client to wait for.
      int64Arg(argv[++i] as Bin);
    } else if (isOption(option, "COUNT") && more) {
      count = Math.max(0, Number(int64Arg(argv[++i] as Bin)));
    } else if (isOption(option, "STREAMS") && more) {
      streamsAt = i + 1;
      if ((argv.length - streamsAt) % 2 !== 0) {
        throw new CommandError(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      break;
    } else throw new CommandError(SYNTAX);
  }
  if (streamsAt === 0) throw new CommandError(SYNTAX);
  const streamCount = (argv.length - streamsAt) / 2;
  const after: StreamId[] = [];
  for (let i = 0; i < streamCount; i++) {
    const stream = readStream(ctx, argv[streamsAt + i] as Bin);
    const text = argv[streamsAt + streamCount + i] as Bin;
    if (text === "$") after.push(stream?.lastId ?? MIN_ID);
    else if (text === ">") {
      throw new CommandError(
        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
      );
    } else after.push(parseId(text, 0n, true).id);
  }
  const found: Reply[] = [];
  for (let i = 0; i < streamCount; i++) {
    const key = argv[streamsAt + i] as Bin;
    const stream = readStream(ctx, key);
    const start = nextIdAfter(after[i] as StreamId);
    if (!stream || !start || stream.length === 0 || compareIds(stream.lastId, after[i] as StreamId) <= 0)
      continue;
    found.push([key, stream.range(start, MAX_ID, count, false).map(entryReply)]);
  }
  return found.length > 0 ? found : null;
}

function streamInfo(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const stream = readStream(ctx, argv[2] as Bin);
  if (!stream) throw new CommandError(NO_SUCH_KEY);
  const options = argv.slice(3);
  let full = false;
  let count = 10;
  if (options.length > 0) {
    if ((options.length !== 1 && options.length !== 3) || !isOption(options[0], "FULL")) {
      throw subcommandSyntaxError(argv);
    }
    full = true;
    if (options.length === 3) {
      if (!isOption(options[1], "COUNT")) throw subcommandSyntaxError(argv);
      count = Number(int64Arg(options[2] as Bin));
      if (count < 0) count = 10;
    }
  }
  const header: Reply[] = [
    "length",
    stream.length,
    "radix-tree-keys",
    stream.nodeCount,
    // The radix tree's inner nodes are not modelled: one per key plus the root.
    "radix-tree-nodes",
    stream.nodeCount + 1,
    "last-generated-id",
    formatId(stream.lastId),
    "max-deleted-entry-id",
    formatId(stream.maxDeletedId),
    "entries-added",
    stream.entriesAdded,
    "recorded-first-entry-id",
    formatId(stream.firstId),
  ];
  if (full) {
    return [...header, "entries", stream.range(MIN_ID, MAX_ID, count, false).map(entryReply), "groups", []];
  }
  const first = stream.first();
  const last = stream.last();
  return [
    ...header,
    "groups",
    0,
    "first-entry",
    first ? entryReply(first) : null,
    "last-entry",
    last ? entryReply(last) : null,
  ];
}

function noGroups(name: string, arity: number): CommandSpec {
  return command(name, arity, ["write"], () => {
    throw new CommandError("ERR stream consumer groups are not supported by the emulator");
  });
}

export const STREAM_COMMANDS: readonly CommandSpec[] = [
  command("xadd", -5, ["write"], xadd),
  command("xrange", -4, [], xrange(false)),
  command("xrevrange", -4, [], xrange(true)),
  command("xlen", 2, [], (ctx, [, key = ""]) => readStream(ctx, key)?.length ?? 0),
  command("xdel", -3, ["write"], xdel),
  command("xtrim", -4, ["write"], xtrim),
  command("xread", -4, [], xread),
  container("xinfo", [
    command("xinfo|stream", -3, [], streamInfo),
    command("xinfo|groups", 3, [], (ctx, argv) => {
      if (!readStream(ctx, argv[2] as Bin)) throw new CommandError(NO_SUCH_KEY);
      return [];
    }),
    command("xinfo|consumers", 4, [], (ctx, argv) => {
      if (!readStream(ctx, argv[2] as Bin)) throw new CommandError(NO_SUCH_KEY);
      throw new CommandError(`NOGROUP No such consumer group '${argv[3]}' for key name '${argv[2]}'`);
    }),
  ]),
  noGroups("xgroup", -2),
  noGroups("xreadgroup", -7),
  noGroups("xack", -4),
  noGroups("xpending", -3),
  noGroups("xclaim", -6),
  noGroups("xautoclaim", -6),
];
