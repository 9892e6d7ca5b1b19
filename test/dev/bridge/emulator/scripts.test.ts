/**
 * The project's four scripts (core/redis/scripts.ts REDIS_SCRIPTS) run on the emulator and
 * answer what they answer on redis-server 7.0: the same sequence of calls, with the same
 * keys and arguments, on both; replies and the state they leave compared. Stream ids made
 * by `*` differ in time, so each side's ids are numbered in order of appearance.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_SCRIPTS } from "../../../../core/redis/scripts";
import type { RedisBackend } from "../../../../dev/bridge/backend";
import {
  freshPrefix,
  type Normalized,
  type Outcome,
  openEmulator,
  openReference,
  runAll,
  type TextCommand,
  withPrefix,
} from "./reference";

type ScriptName = keyof typeof REDIS_SCRIPTS;

function evalScript(name: ScriptName, keys: readonly string[], args: readonly string[]): TextCommand {
  return ["EVAL", REDIS_SCRIPTS[name].source, String(keys.length), ...keys, ...args];
}

/** Each distinct time-made stream id becomes `id#n`, n counted in order of appearance. */
function numberIds(outcomes: readonly Outcome[]): unknown[] {
  const ids = new Map<string, string>();
  const rename = (value: Normalized): Normalized => {
    if (typeof value === "string") {
      return value.replace(/\b1[0-9]{12}-[0-9]+\b/g, (id) => {
        if (!ids.has(id)) ids.set(id, `id#${ids.size + 1}`);
        return ids.get(id) as string;
      });
    }
    if (Array.isArray(value)) return value.map(rename);
    return value;
  };
  return outcomes.map((outcome) =>
    "ok" in outcome ? { ok: rename(outcome.ok) } : { error: rename(outcome.error) },
  );
}

const RECORD = (version: string, body: string, tags: string) => [
  version,
  body,
  tags,
  "1700000000000",
  '"0a1b"',
  "60000",
];

interface ScriptCase {
  readonly name: string;
  readonly commands: readonly TextCommand[];
}

const CASES: readonly ScriptCase[] = [
  {
    name: "fill: stores, refuses an older version, stores version 0 always",
    commands: [
      evalScript(
        "fill",
        ["{p}:v", "{p}:log", "{p}:epoch", "{p}:tag:a", "{p}:tag:b"],
        [...RECORD("5", '{"gpu":"A100"}', "a b"), "", "", "a", "b"],
      ),
      ["HGETALL", "{p}:v"],
      ["~SMEMBERS", "{p}:tag:a"],
      [
        "EVAL",
        "return {redis.call('PTTL', KEYS[1]) > 0, redis.call('PTTL', KEYS[2]) > 0}",
        "2",
        "{p}:v",
        "{p}:tag:b",
      ],
      evalScript(
        "fill",
        ["{p}:v", "{p}:log", "{p}:epoch", "{p}:tag:a"],
        [...RECORD("4", "older", "a"), "", "", "a"],
      ),
      evalScript(
        "fill",
        ["{p}:v", "{p}:log", "{p}:epoch", "{p}:tag:a"],
        [...RECORD("5", "same", "a"), "", "", "a"],
      ),
      evalScript(
        "fill",
        ["{p}:v", "{p}:log", "{p}:epoch", "{p}:tag:a"],
        [...RECORD("0", "unversioned", "a"), "", "", "a"],
      ),
      ["HGET", "{p}:v", "b"],
    ],
  },
  {
    name: "fill: an event after the cursor that names a tag wins the race; so does another epoch",
    commands: [
      ["SET", "{p}:epoch", "E1"],
      ["XADD", "{p}:log", "10-0", "tags", "a", "event", "e1", "at", "1"],
      ["XADD", "{p}:log", "11-0", "tags", "other", "event", "e2", "at", "2"],
      evalScript(
        "fill",
        ["{p}:v", "{p}:log", "{p}:epoch", "{p}:tag:x"],
        [...RECORD("1", "b", "x"), "10-0", "E1", "x"],
      ),
      ["XADD", "{p}:log", "12-0", "tags", "x y", "event", "e3", "at", "3"],
      evalScript(
        "fill",
        ["{p}:v2", "{p}:log", "{p}:epoch", "{p}:tag:x"],
        [...RECORD("1", "b", "x"), "10-0", "E1", "x"],
      ),
      // A cursor whose entry is gone: entries after it may have been trimmed unseen.
      evalScript(
        "fill",
        ["{p}:v3", "{p}:log", "{p}:epoch", "{p}:tag:z"],
        [...RECORD("1", "b", "z"), "9-0", "E1", "z"],
      ),
      // A position from another epoch (the log was reset since), and from none yet.
      evalScript(
        "fill",
        ["{p}:v4", "{p}:log", "{p}:epoch", "{p}:tag:z"],
        [...RECORD("1", "b", "z"), "11-0", "E0", "z"],
      ),
      evalScript(
        "fill",
        ["{p}:v5", "{p}:log", "{p}:none", "{p}:tag:z"],
        [...RECORD("1", "b", "z"), "11-0", "E1", "z"],
      ),
      ["EXISTS", "{p}:v2", "{p}:v3", "{p}:v4", "{p}:v5"],
    ],
  },
  {
    name: "fill: from the empty-log cursor, a log that lost entries is a race",
    commands: [
      ["SET", "{p}:epoch", "E1"],
      evalScript(
        "fill",
        ["{p}:v", "{p}:log", "{p}:epoch", "{p}:tag:a"],
        [...RECORD("1", "b", "a"), "0-0", "E1", "a"],
      ),
      ["XADD", "{p}:log", "5-0", "tags", "q", "event", "e", "at", "1"],
      ["XDEL", "{p}:log", "5-0"],
      evalScript(
        "fill",
        ["{p}:v2", "{p}:log", "{p}:epoch", "{p}:tag:a"],
        [...RECORD("1", "b", "a"), "0-0", "E1", "a"],
      ),
      ["XADD", "{p}:log2", "5-0", "tags", "q", "event", "e", "at", "1"],
      evalScript(
        "fill",
        ["{p}:v3", "{p}:log2", "{p}:epoch", "{p}:tag:a"],
        [...RECORD("1", "b", "a"), "0-0", "E1", "a"],
      ),
    ],
  },
  {
    name: "readLog: no log, the end only, entries after a cursor, after deletes and trims; the epoch set once",
    commands: [
      evalScript("readLog", ["{p}:log", "{p}:epoch"], ["", "10", "E1"]),
      evalScript("readLog", ["{p}:log", "{p}:epoch"], ["0-0", "10", "E2"]),
      ["GET", "{p}:epoch"],
      ...Array.from(
        { length: 6 },
        (_, i): TextCommand => [
          "XADD",
          "{p}:log",
          `${i + 1}-0`,
          "tags",
          `t${i}`,
          "event",
          `e${i}`,
          "at",
          String(i),
        ],
      ),
      evalScript("readLog", ["{p}:log", "{p}:epoch"], ["", "10", "E1"]),
      evalScript("readLog", ["{p}:log", "{p}:epoch"], ["2-0", "2", "E1"]),
      ["XDEL", "{p}:log", "4-0"],
      ["XTRIM", "{p}:log", "MAXLEN", "3"],
      evalScript("readLog", ["{p}:log", "{p}:epoch"], ["0-0", "10", "E1"]),
      ["SET", "{p}:notastream", "x"],
      evalScript("readLog", ["{p}:notastream", "{p}:epoch"], ["0-0", "10", "E1"]),
      ["DEL", "{p}:epoch", "{p}:log"],
      evalScript("readLog", ["{p}:log", "{p}:epoch"], ["6-0", "10", "E3"]),
      ["GET", "{p}:epoch"],
    ],
  },
  {
    name: "applyEvent: applied, then a duplicate, then stale, then refused for a wrong type",
    commands: [
      ["HSET", "{p}:rec:old", "v", "1", "b", "old", "t", "a", "s", "1"],
      ["SADD", "{p}:tag:a", "{p}:agg:1", "{p}:agg:2"],
      ["SET", "{p}:agg:1", "x"],
      ["SET", "{p}:agg:2", "y"],
      evalScript(
        "applyEvent",
        ["{p}:applied:e1", "{p}:ver", "{p}:log"],
        [
          ...[
            "7",
            "60000",
            "{p}:chan",
            "100",
            "a b",
            "e1",
            "1700000000000",
            "2",
            "1",
            "2",
            '{"kind":"price"}',
            "90000",
          ],
          "{p}:rec:old",
          ...RECORD("2", "new", "a"),
          "{p}:rec:new",
          ...RECORD("1", "fresh", "b"),
          "{p}:derived",
          "{p}:tag:a",
          "{p}:tag:b",
          "{p}:tagver:a",
          "{p}:tagver:b",
        ],
      ),
      ["HGETALL", "{p}:rec:old"],
      ["HGETALL", "{p}:rec:new"],
      ["EXISTS", "{p}:agg:1", "{p}:agg:2", "{p}:tag:a", "{p}:derived"],
      ["GET", "{p}:applied:e1"],
      ["MGET", "{p}:tagver:a", "{p}:tagver:b"],
      ["XRANGE", "{p}:log", "-", "+"],
      evalScript(
        "applyEvent",
        ["{p}:applied:e1", "{p}:ver", "{p}:log"],
        ["7", "60000", "{p}:chan", "100", "a", "e1", "1700000000001", "0", "0", "0", "{}", "90000"],
      ),
      ["HSET", "{p}:ver", "v", "9"],
      evalScript(
        "applyEvent",
        ["{p}:applied:e2", "{p}:ver", "{p}:log"],
        ["8", "60000", "{p}:chan", "100", "a", "e2", "1700000000002", "0", "0", "0", "{}", "90000"],
      ),
      ["GET", "{p}:applied:e2"],
      ["SET", "{p}:rec:str", "not a hash"],
      evalScript(
        "applyEvent",
        ["{p}:applied:e3", "", "{p}:log"],
        [
          ...["1", "60000", "{p}:chan", "100", "a", "e3", "1700000000003", "1", "0", "0", "{}", "90000"],
          "{p}:rec:str",
          ...RECORD("1", "b", "a"),
        ],
      ),
      ["XLEN", "{p}:log"],
      ["EXISTS", "{p}:applied:e3"],
    ],
  },
  {
    name: "tokenBucket: takes, refills by elapsed time, gives back, with capacities past 32 bits",
    commands: [
      evalScript("tokenBucket", ["{p}:bucket"], ["1700000000000", "10", "60", "3"]),
      evalScript("tokenBucket", ["{p}:bucket"], ["1700000000000", "10", "60", "20"]),
      evalScript("tokenBucket", ["{p}:bucket"], ["1700000000500", "10", "60", "1"]),
      evalScript("tokenBucket", ["{p}:bucket"], ["1700000002500", "10", "60", "1"]),
      ["GET", "{p}:bucket"],
      evalScript("tokenBucket", ["{p}:bucket"], ["1700000002500", "10", "60", "-4"]),
      evalScript("tokenBucket", ["{p}:bucket"], ["1700000001000", "10", "60", "0"]),
      evalScript("tokenBucket", ["{p}:big"], ["1700000000000", "100000", "60000", "99999"]),
      evalScript("tokenBucket", ["{p}:big"], ["1700000000007", "100000", "60000", "5"]),
      ["GET", "{p}:big"],
      ["EVAL", "return redis.call('PTTL', KEYS[1]) > 0", "1", "{p}:big"],
      evalScript("tokenBucket", ["{p}:big"], ["1700000000007", "100000", "60000", "-100000"]),
      ["EXISTS", "{p}:big"],
    ],
  },
  {
    name: "listing views: a warmed page is read back in price order; the lock is released only by its holder",
    commands: [
      evalScript("readListings", ["{p}:members", "{p}:warmed", "{p}:view:*:*:*:price"], ["5"]),
      evalScript(
        "warmPage",
        [],
        [
          "{p}:view:",
          "{p}:members",
          "2",
          "{p}:gpu:g1",
          ...RECORD("3", '{"gpuId":"g1"}', "gpu:g1"),
          "r1 t1 available 1.5 80 3",
          "{p}:gpu:g2",
          ...RECORD("4", '{"gpuId":"g2"}', "gpu:g2"),
          "r1 t1 busy 0.9 70 4",
        ],
      ),
      ["SET", "{p}:warmed", "1700000000000"],
      evalScript("readListings", ["{p}:members", "{p}:warmed", "{p}:view:*:*:*:price"], ["5"]),
      evalScript(
        "readListings",
        [
          "{p}:members",
          "{p}:warmed",
          "{p}:view:r1:*:busy:performance",
          "{p}:view:r1:t1:*:id",
          "{p}:view:r9:*:*:id",
        ],
        ["5", "1", "5"],
      ),
      ["HSET", "{p}:gpu:g1", "v", "9"],
      evalScript("readListings", ["{p}:members", "{p}:warmed", "{p}:view:*:*:*:price"], ["5"]),
      ["~ZRANGE", "{p}:view:r1:t1:*:id", "0", "-1", "WITHSCORES"],
      evalScript("readRecords", ["{p}:gpu:g2", "{p}:gpu:missing", "{p}:gpu:g1"], []),
      evalScript(
        "warmCollection",
        [],
        [
          "2",
          "{p}:price:t1:r1",
          ...RECORD("2", '{"gpuType":"t1","region":"r1"}', "price:t1:r1"),
          "{p}:view:prices:t1:* {p}:view:prices:*:r1",
          "{p}:price:t0:r1",
          ...RECORD("1", '{"gpuType":"t0","region":"r1"}', "price:t0:r1"),
          "{p}:view:prices:*:r1",
        ],
      ),
      evalScript(
        "readListings",
        ["{p}:members", "{p}:warmed", "{p}:view:prices:*:r1", "{p}:view:prices:t1:*"],
        ["0", "0"],
      ),
      ["DEL", "{p}:price:t0:r1"],
      evalScript("readListings", ["{p}:members", "{p}:warmed", "{p}:view:prices:*:r1"], ["0"]),
      ["SET", "{p}:lock", "mine"],
      evalScript("releaseWarmLock", ["{p}:lock"], ["theirs"]),
      evalScript("releaseWarmLock", ["{p}:lock"], ["mine"]),
      ["EXISTS", "{p}:lock"],
    ],
  },
];

function sortedIfUnordered(commands: readonly TextCommand[], outcomes: readonly Outcome[]): Outcome[] {
  return outcomes.map((outcome, i) =>
    commands[i]?.[0]?.startsWith("~") && "ok" in outcome && Array.isArray(outcome.ok)
      ? { ok: [...outcome.ok].sort() }
      : outcome,
  );
}

describe("the project's scripts answer the same on the emulator as on redis-server 7.0", () => {
  let reference: RedisBackend;
  beforeAll(async () => {
    reference = await openReference();
  });
  afterAll(async () => {
    await reference?.close();
  });

  it("covers every script in REDIS_SCRIPTS", () => {
    const covered = new Set(CASES.flatMap((c) => c.commands.map((command) => command[1])));
    for (const script of Object.values(REDIS_SCRIPTS)) expect(covered.has(script.source)).toBe(true);
  });

  it.for(CASES)("$name", async ({ commands }) => {
    const emulator = openEmulator();
    try {
      const sent = withPrefix(commands, freshPrefix("script"));
      const plain = sent.map(([name = "", ...args]) => [name.replace(/^~/, ""), ...args]);
      const run = async (backend: RedisBackend) =>
        numberIds(sortedIfUnordered(sent, await runAll(backend, plain))).map((outcome, i) => ({
          step: i,
          outcome,
        }));
      const expected = await run(reference);
      expect(await run(emulator)).toEqual(expected);
    } finally {
      await emulator.close();
    }
  });
});
