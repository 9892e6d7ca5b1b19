/** Set commands. */
import type { Bin } from "../bytes";
import { type CommandSpec, command, type ExecContext } from "../command";
import { parseInt64 } from "../numbers";
import type { Reply } from "../reply";
import { parseScan, scanItems } from "../scan";

/** set-max-intset-entries: a set of integers this small is an intset, which SSCAN answers whole. */
const INTSET_ENTRIES = 512;

const readSet = (ctx: ExecContext, key: Bin) => ctx.db.read(key, "set");

/**
 * A set's members in Redis's order: an intset (only integers, at most 512) is sorted; a
 * hashtable's order is its own, insertion order here.
 */
function membersOf(set: Set<Bin> | undefined): { members: Bin[]; intset: boolean } {
  const members = [...(set ?? [])];
  const numbers = members.map(parseInt64);
  if (members.length > INTSET_ENTRIES || numbers.some((n) => n === undefined))
    return { members, intset: false };
  const order = members.map((member, i) => ({ member, n: numbers[i] as bigint }));
  order.sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return { members: order.map((entry) => entry.member), intset: true };
}

function sadd(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const set = ctx.db.readOrCreate(argv[1] as Bin, "set", () => new Set());
  let added = 0;
  for (const member of argv.slice(2)) {
    if (set.has(member)) continue;
    set.add(member);
    added++;
  }
  return added;
}

function srem(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const key = argv[1] as Bin;
  return ctx.db.removeMembers(key, readSet(ctx, key), argv.slice(2));
}

function sscan(ctx: ExecContext, argv: readonly Bin[]): Reply {
  const options = parseScan(argv, 2, false);
  const { members, intset } = membersOf(readSet(ctx, argv[1] as Bin));
  return scanItems(
    members,
    options,
    intset,
    (member) => member,
    (member) => [member],
  );
}

export const SET_COMMANDS: readonly CommandSpec[] = [
  command("sadd", -3, ["write"], sadd),
  command("srem", -3, ["write"], srem),
  command("smembers", 2, [], (ctx, [, key = ""]) => membersOf(readSet(ctx, key)).members),
  command("sismember", 3, [], (ctx, [, key = "", member = ""]) => (readSet(ctx, key)?.has(member) ? 1 : 0)),
  command("smismember", -3, [], (ctx, argv) => {
    const set = readSet(ctx, argv[1] as Bin);
    return argv.slice(2).map((member) => (set?.has(member) ? 1 : 0));
  }),
  command("scard", 2, [], (ctx, [, key = ""]) => readSet(ctx, key)?.size ?? 0),
  command("sscan", -3, [], sscan),
];
