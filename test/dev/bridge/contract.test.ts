/**
 * The bridge contract: the real @upstash/redis client (and raw HTTP where the client hides
 * the wire) against the Upstash-compatible bridge, for every combination of
 * backend (real redis-server, emulator) × responseEncoding (base64, false) × auto-pipelining.
 * One suite definition; what only a separate server has is gated through CAPABILITIES in
 * contract-suite.ts.
 */
import { createHash } from "node:crypto";
import { errors, type Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { MAX_RECONNECT_DELAY_MS } from "../../../dev/bridge/ioredis-connection";
import { startBridgeServer } from "../../../dev/bridge/server";
import { type RedisServerChild, startRedisServer } from "../../../dev/local/redis-server";
import { ManualTimers } from "../../support/manual-timers";
import { within } from "../../support/within";
import {
  authHeaders,
  base64,
  CAPABILITIES,
  type ClientOptions,
  COMBOS,
  createClient,
  createInspector,
  type Inspector,
  type RawOptions,
  type RawResponse,
  rawRequest,
  uniquePrefix,
} from "./contract-suite";

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
const EXECABORT = "EXECABORT Transaction discarded because of previous errors.";
const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** About 1 MB mixing ASCII, multi-byte UTF-8, NUL and CR LF, so an off-by-one anywhere shows. */
const ONE_MEGABYTE = (() => {
  const unit = "0123456789abcdef€日😀\u0000\r\n";
  return unit.repeat(Math.ceil((1024 * 1024) / Buffer.byteLength(unit)));
})();

/** Values that break a bridge which is not byte-exact or that mis-encodes base64 / JSON. */
const TRICKY_VALUES: ReadonlyArray<{ label: string; value: string }> = [
  { label: "NUL bytes", value: "a\u0000b\u0000\u0000c" },
  { label: "CR LF", value: "line one\r\nline two\r\n" },
  { label: "emoji (incl. ZWJ sequence)", value: "🚀🔥👩‍💻🇯🇵" },
  { label: "CJK", value: "日本語の文字列、中文字符串，한국어" },
  { label: 'base64-looking "T0s="', value: "T0s=" },
  { label: 'base64-looking "string"', value: "string" },
  { label: 'the literal "OK"', value: "OK" },
  { label: "a JSON object text", value: '{"gpu":"A100","price":1.5,"tags":[true,null]}' },
  { label: "a JSON string text", value: '"quoted"' },
  { label: "a numeric string with a leading zero", value: "007" },
  { label: "a numeric string beyond 2^53", value: "12345678901234567890" },
  { label: "the empty string", value: "" },
  { label: "1 MB mixed text", value: ONE_MEGABYTE },
];

/** Bodies the bridge must refuse with 400 before anything reaches Redis. `k` is a key nothing else writes. */
const BAD_BODIES: ReadonlyArray<{ name: string; path: string; body: (k: string) => unknown }> = [
  { name: "malformed JSON", path: "/", body: (k) => `["set","${k}","v"` },
  { name: "malformed JSON on /pipeline", path: "/pipeline", body: (k) => `[["set","${k}","v"]` },
  { name: "an empty body", path: "/", body: () => "" },
  { name: "a JSON object instead of an array", path: "/", body: (k) => ({ command: ["set", k, "v"] }) },
  { name: "a JSON object on /pipeline", path: "/pipeline", body: (k) => ({ 0: ["set", k, "v"] }) },
  { name: "JSON null", path: "/", body: () => "null" },
  { name: "an empty command array", path: "/", body: () => [] },
  { name: "an empty pipeline", path: "/pipeline", body: () => [] },
  { name: "an empty transaction", path: "/multi-exec", body: () => [] },
  { name: "a pipeline item that is not an array", path: "/pipeline", body: (k) => [["set", k, "v"], "get"] },
  {
    name: "a transaction item that is not an array",
    path: "/multi-exec",
    body: (k) => [["set", k, "v"], { 0: "get", 1: k }],
  },
  { name: "a nested array argument", path: "/", body: (k) => ["set", k, ["v"]] },
  { name: "a null argument", path: "/", body: (k) => ["set", k, null] },
  { name: "an object argument", path: "/", body: (k) => ["set", k, { v: 1 }] },
  { name: "a non-string command name", path: "/", body: (k) => [["set"], k, "v"] },
  {
    name: "a bad argument in the last pipeline item",
    path: "/pipeline",
    body: (k) => [
      ["set", k, "v"],
      ["set", `${k}:2`, null],
    ],
  },
  {
    name: "a bad argument in the last transaction item",
    path: "/multi-exec",
    body: (k) => [
      ["set", k, "v"],
      ["set", `${k}:2`, { v: 1 }],
    ],
  },
];

/** Commands that would change or block the bridge's shared connection. */
const REFUSED_COMMANDS: ReadonlyArray<{ label: string; name: string; command: (k: string) => unknown[] }> = [
  { label: "SUBSCRIBE", name: "subscribe", command: (k) => ["subscribe", k] },
  { label: "PSUBSCRIBE", name: "psubscribe", command: (k) => ["psubscribe", `${k}:*`] },
  { label: "MULTI", name: "multi", command: () => ["multi"] },
  { label: "EXEC", name: "exec", command: () => ["exec"] },
  { label: "WATCH", name: "watch", command: (k) => ["watch", k] },
  { label: "SELECT", name: "select", command: () => ["select", 1] },
  { label: "BLPOP (blocking)", name: "blpop", command: (k) => ["blpop", k, 0] },
  { label: "BRPOP (blocking)", name: "brpop", command: (k) => ["BRPOP", k, 0] },
  {
    label: "XREAD BLOCK (blocking)",
    name: "xread",
    command: (k) => ["xread", "block", 0, "streams", k, "$"],
  },
  { label: "CLIENT REPLY", name: "client", command: () => ["client", "reply", "off"] },
  { label: "MONITOR", name: "monitor", command: () => ["monitor"] },
];

describe.for(COMBOS)("bridge contract · $name", (combo) => {
  const capabilities = CAPABILITIES[combo.backend];
  const token = inject("bridgeToken");
  const redisUrl = inject("redisUrl");
  const url = combo.backend === "redis" ? inject("bridgeUrl") : inject("emulatorBridgeUrl");

  let inspector: Inspector;
  let redis: Redis;
  let prefix = "";
  const key = (name: string) => `${prefix}:${name}`;
  const client = (options: ClientOptions = {}) => createClient(combo, url, token, options);
  /** A request shaped like the client's own, so the combo's Upstash-Encoding applies. */
  const raw = (path: string, body: unknown, options?: RawOptions): Promise<RawResponse> =>
    rawRequest(url, token, combo.responseEncoding, path, body, options);
  /** What the combo's encoding makes of a string on the wire. */
  const wire = (text: string) => (combo.responseEncoding === "base64" ? base64(text) : text);

  beforeAll(() => {
    if (combo.backend === "redis" && (inject("bridgeBackend") !== "redis" || redisUrl === "")) {
      // The real-server half is the point of the suite: never let it quietly run over the emulator.
      throw new Error("the bridge contract needs redis-server on PATH (apt-get install -y redis-server)");
    }
    inspector = createInspector(combo.backend, { url, token }, redisUrl);
    redis = client();
  });

  afterAll(async () => {
    await inspector?.close();
  });

  beforeEach(() => {
    prefix = uniquePrefix(combo);
  });

  describe("data types through the client", () => {
    it("strings: SET with EX/PX, GET, TTL/PTTL, EXPIRE, INCR/INCRBY, MSET/MGET, EXISTS, DEL", async () => {
      const [a, b, c, n, m1, m2, missing] = ["a", "b", "c", "n", "m1", "m2", "missing"].map(key) as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      expect(await redis.set(a, "alpha", { ex: 100 })).toBe("OK");
      expect(await redis.set(b, "beta", { px: 50_000 })).toBe("OK");
      expect(await redis.get(a)).toBe("alpha");
      expect(await redis.get(b)).toBe("beta");
      const ttl = await redis.ttl(a);
      expect(ttl).toBeGreaterThan(90);
      expect(ttl).toBeLessThanOrEqual(100);
      const pttl = await redis.pttl(b);
      expect(pttl).toBeGreaterThan(40_000);
      expect(pttl).toBeLessThanOrEqual(50_000);

      expect(await redis.set(c, "gamma")).toBe("OK");
      expect(await redis.ttl(c)).toBe(-1);
      expect(await redis.ttl(missing)).toBe(-2);
      expect(await redis.expire(c, 30)).toBe(1);
      const expiring = await redis.ttl(c);
      expect(expiring).toBeGreaterThan(20);
      expect(expiring).toBeLessThanOrEqual(30);

      expect(await redis.incr(n)).toBe(1);
      expect(await redis.incrby(n, 41)).toBe(42);
      expect(await redis.get(n)).toBe(42);

      expect(await redis.mset({ [m1]: "one", [m2]: 2 })).toBe("OK");
      expect(await redis.mget(m1, m2, missing)).toEqual(["one", 2, null]);

      expect(await redis.exists(a, b, missing)).toBe(2);
      expect(await redis.del(a, b, missing)).toBe(2);
      expect(await redis.exists(a, b)).toBe(0);
      expect(await redis.get(a)).toBeNull();
    });

    it("strings: a PX expiry really expires the key", async () => {
      const k = key("short-lived");
      expect(await redis.set(k, "soon gone", { px: 100 })).toBe("OK");
      expect(await redis.get(k)).toBe("soon gone");
      await expect.poll(() => redis.get(k), { timeout: 3_000, interval: 25 }).toBeNull();
      expect(await inspector.exists(k)).toBe(0);
    });

    it("hashes: HSET, HGET, HGETALL, HINCRBY, HDEL", async () => {
      const h = key("hash");
      expect(await redis.hset(h, { name: "gpu-node", count: 3, label: "a,b c" })).toBe(3);
      expect(await redis.hget(h, "name")).toBe("gpu-node");
      expect(await redis.hget(h, "nope")).toBeNull();
      expect(await redis.hincrby(h, "count", 4)).toBe(7);
      expect(await redis.hgetall(h)).toEqual({ name: "gpu-node", count: 7, label: "a,b c" });
      expect(await redis.hdel(h, "name", "nope")).toBe(1);
      expect(await redis.hgetall(h)).toEqual({ count: 7, label: "a,b c" });
      expect(await redis.hgetall(key("missing"))).toBeNull();
    });

    it("sets: SADD, SMEMBERS, SISMEMBER, SREM", async () => {
      const s = key("set");
      expect(await redis.sadd(s, "a", "b", "c")).toBe(3);
      expect(await redis.sadd(s, "a")).toBe(0);
      expect((await redis.smembers(s)).sort()).toEqual(["a", "b", "c"]);
      expect(await redis.sismember(s, "b")).toBe(1);
      expect(await redis.sismember(s, "z")).toBe(0);
      expect(await redis.srem(s, "b", "z")).toBe(1);
      expect((await redis.smembers(s)).sort()).toEqual(["a", "c"]);
    });

    it("sorted sets: ZADD, ZRANGE (with scores, by score), ZSCORE, ZINCRBY, ZREM", async () => {
      const z = key("zset");
      expect(
        await redis.zadd(
          z,
          { score: 1, member: "a" },
          { score: 2, member: "b" },
          { score: 3.5, member: "c" },
        ),
      ).toBe(3);
      expect(await redis.zrange(z, 0, -1, { withScores: true })).toEqual(["a", 1, "b", 2, "c", 3.5]);
      expect(await redis.zscore(z, "c")).toBe(3.5);
      expect(await redis.zincrby(z, 2, "a")).toBe(3);
      expect(await redis.zrange(z, 0, -1)).toEqual(["b", "a", "c"]);
      expect(await redis.zrange(z, 3, 10, { byScore: true })).toEqual(["a", "c"]);
      expect(await redis.zrange(z, 0, 2, { byScore: true, withScores: true })).toEqual(["b", 2]);
      expect(await redis.zrem(z, "b", "nope")).toBe(1);
      expect(await redis.zrange(z, 0, -1)).toEqual(["a", "c"]);
      expect(await redis.zscore(z, "b")).toBeNull();
      expect(await redis.zrange(z, 3.2, 10, { byScore: true })).toEqual(["c"]);
    });

    it("lists: LPUSH, RPUSH, LRANGE, LPOP, LLEN", async () => {
      const l = key("list");
      expect(await redis.lpush(l, "b", "a")).toBe(2);
      expect(await redis.rpush(l, "c", "d")).toBe(4);
      expect(await redis.lrange(l, 0, -1)).toEqual(["a", "b", "c", "d"]);
      expect(await redis.lpop(l)).toBe("a");
      expect(await redis.llen(l)).toBe(3);
      expect(await redis.lrange(l, 1, 1)).toEqual(["c"]);
      expect(await redis.lpop(key("missing"))).toBeNull();
    });

    it("streams: XADD, XRANGE, XLEN, XTRIM MAXLEN", async () => {
      const x = key("stream");
      const ids: string[] = [];
      for (let i = 1; i <= 4; i++) ids.push(await redis.xadd(x, "*", { n: i, label: `event ${i}` }));
      for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
      expect(new Set(ids).size).toBe(4);
      expect(await redis.xlen(x)).toBe(4);
      const entries = await redis.xrange(x, "-", "+");
      expect(Object.keys(entries)).toEqual(ids);
      expect(entries[ids[0] as string]).toEqual({ n: 1, label: "event 1" });
      expect(await redis.xtrim(x, { strategy: "MAXLEN", exactness: "=", threshold: 2 })).toBe(2);
      expect(await redis.xlen(x)).toBe(2);
      expect(Object.keys(await redis.xrange(x, "-", "+"))).toEqual(ids.slice(2));
    });

    it("SCAN with MATCH and COUNT iterates to cursor 0 and sees every matching key once", async () => {
      const wanted = Array.from({ length: 30 }, (_, i) => key(`scan:${i}`));
      const unwanted = Array.from({ length: 5 }, (_, i) => key(`other:${i}`));
      await redis.mset(Object.fromEntries([...wanted, ...unwanted].map((k) => [k, "v"])));
      const seen: string[] = [];
      let cursor = "0";
      let rounds = 0;
      do {
        const [next, keys] = await redis.scan(cursor, { match: `${prefix}:scan:*`, count: 10 });
        expect(typeof next).toBe("string");
        seen.push(...keys);
        cursor = next;
        rounds += 1;
      } while (cursor !== "0" && rounds < 100_000);
      expect(cursor).toBe("0");
      expect(rounds).toBeGreaterThan(1);
      expect([...new Set(seen)].sort()).toEqual([...wanted].sort());
    }, 30_000);
  });

  describe("pipelines and transactions", () => {
    it("pipeline() returns every result in command order", async () => {
      const [k, n, h] = [key("k"), key("n"), key("h")];
      const p = redis.pipeline();
      p.set(k, "v1").get(k).incr(n).incrby(n, 9).hset(h, { f: "x" }).hget(h, "f").del(k).get(k);
      expect(await p.exec()).toEqual(["OK", "v1", 1, 10, 1, "x", 1, null]);
    });

    it("pipeline().exec({ keepErrors: true }) shows the failing item's error and runs the others", async () => {
      const [text, before, after] = [key("text"), key("before"), key("after")];
      await redis.set(text, "not a list");
      const p = redis.pipeline();
      p.set(before, "b").lpush(text, "x").get(before).set(after, "a");
      const results = await p.exec({ keepErrors: true });
      expect(results).toHaveLength(4);
      expect(results[0]).toEqual({ result: "OK", error: undefined });
      expect(results[1]?.result).toBeUndefined();
      expect(results[1]?.error).toEqual(expect.stringMatching(/\S/));
      expect(results[1]?.error).toBe(WRONGTYPE);
      expect(results[2]).toEqual({ result: "b", error: undefined });
      expect(results[3]).toEqual({ result: "OK", error: undefined });
      expect(await inspector.get(after)).toBe("a");
      expect(await inspector.get(text)).toBe("not a list");
    });

    it("a failing pipeline item is exactly {error} on the wire, with no result key", async () => {
      const [text, other] = [key("text"), key("other")];
      await redis.set(text, "not a list");
      const res = await raw("/pipeline", [
        ["lpush", text, "x"],
        ["set", other, "v"],
      ]);
      expect(res.status).toBe(200);
      const [failed, succeeded] = res.json() as [Record<string, unknown>, Record<string, unknown>];
      expect(Object.keys(failed)).toEqual(["error"]);
      expect(typeof failed.error).toBe("string");
      // The client keeps a top-level "OK" as-is, so it may come plain or base64-encoded.
      expect(Object.keys(succeeded)).toEqual(["result"]);
      expect(["OK", wire("OK")]).toContain(succeeded.result);
    });

    it("pipeline().exec() without keepErrors throws for a failing item, yet the other items were applied", async () => {
      const [text, after] = [key("text"), key("after")];
      await redis.set(text, "not a list");
      const p = redis.pipeline();
      p.lpush(text, "x").set(after, "applied");
      await expect(p.exec()).rejects.toThrow(/Command 1 \[ lpush \] failed/);
      expect(await inspector.get(after)).toBe("applied");
    });

    it("multi() runs the queued commands atomically and returns their results", async () => {
      const [k, s] = [key("k"), key("s")];
      const m = redis.multi();
      m.set(k, "1").incr(k).get(k).sadd(s, "x", "y").exists(k, s);
      expect(await m.exec()).toEqual(["OK", 2, 2, 2, 2]);
    });

    it("multi(): a run-time error inside EXEC is that item's error; the other commands are applied", async () => {
      const [text, a, b] = [key("text"), key("a"), key("b")];
      await redis.set(text, "not a list");
      const m = redis.multi();
      m.set(a, "1").lpush(text, "x").set(b, "2").incr(a);
      const results = await m.exec({ keepErrors: true });
      expect(results.map((item) => item.result)).toEqual(["OK", undefined, "OK", 2]);
      expect(results[1]?.error).toEqual(expect.stringMatching(/\S/));
      expect(results[1]?.error).toBe(WRONGTYPE);
      expect(await inspector.get(a)).toBe("2");
      expect(await inspector.get(b)).toBe("2");

      const again = redis.multi();
      again.lpush(text, "x").incr(a);
      await expect(again.exec()).rejects.toThrow(/Command 1 \[ lpush \] failed/);
      expect(await inspector.get(a)).toBe("3");
    });

    it("/multi-exec with an unknown command is 400 EXECABORT and applies nothing", async () => {
      const [a, b] = [key("a"), key("b")];
      const res = await raw("/multi-exec", [
        ["set", a, "1"],
        ["nosuchcommand", "x"],
        ["set", b, "2"],
      ]);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ error: EXECABORT });
      expect(await inspector.exists(a, b)).toBe(0);
    });

    it("/multi-exec with a wrong-arity command is 400 EXECABORT and applies nothing", async () => {
      const a = key("a");
      const res = await raw("/multi-exec", [["set", a, "1"], ["get"]]);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: EXECABORT });
      expect(await inspector.exists(a)).toBe(0);
    });

    it("the client throws for the whole transaction on EXECABORT", async () => {
      const a = key("a");
      const m = redis.multi();
      m.set(a, "1");
      // An unknown command slipped in as the client would send it: the client does not know it either.
      (m as unknown as { chain: (command: { command: unknown[] }) => unknown }).chain({
        command: ["nosuchcommand"],
      });
      await expect(m.exec()).rejects.toThrow(EXECABORT);
      expect(await inspector.exists(a)).toBe(0);
    });

    it("50 concurrent multi() calls on the same keys never interleave", async () => {
      const [counter, text] = [key("counter"), key("text")];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const m = redis.multi();
          m.incr(counter).get(counter).set(text, `tx${i}`).append(text, "-y").get(text);
          return m.exec<[number, number, string, number, string]>();
        }),
      );
      results.forEach(([incremented, read, set, appendedLength, final], i) => {
        expect(read).toBe(incremented);
        expect(set).toBe("OK");
        expect(final).toBe(`tx${i}-y`);
        expect(appendedLength).toBe(`tx${i}-y`.length);
      });
      expect(results.map(([incremented]) => incremented).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      expect(await inspector.get(counter)).toBe("50");
    }, 20_000);
  });

  describe("scripts", () => {
    it("createScript().exec falls back from EVALSHA to EVAL on NOSCRIPT, and the script runs", async () => {
      const k = key("counter");
      // A body no one has loaded yet (the prefix is unique), so EVALSHA must miss first.
      const body = `-- ${prefix}\nreturn {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}`;
      const script = redis.createScript<[string, number, number]>(body);
      await expect(script.evalsha([k], ["5"])).rejects.toThrow(/NOSCRIPT/);
      expect(await inspector.exists(k)).toBe(0);
      expect((await raw("/", ["script", "exists", sha1(body)], { utf8: true })).json()).toEqual({
        result: [0],
      });

      expect(await script.exec([k], ["5"])).toEqual([k, 5, 5]);
      expect(await inspector.get(k)).toBe("5");
      // The EVAL fallback cached the script: EVALSHA alone now works.
      expect(await script.evalsha([k], ["5"])).toEqual([k, 5, 10]);
      expect(await script.exec([k], ["5"])).toEqual([k, 5, 15]);
      expect(await inspector.get(k)).toBe("15");
      expect((await raw("/", ["script", "exists", sha1(body)], { utf8: true })).json()).toEqual({
        result: [1],
      });
    });

    it("EVALSHA of an unknown script is 400 with the exact NOSCRIPT text", async () => {
      const res = await raw("/", ["evalsha", sha1(`return 'never loaded ${prefix}'`), 0]);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: NOSCRIPT });
    });

    it("EVAL replies with nested tables decode at every depth", async () => {
      const result = await redis.eval(
        "return {KEYS[1], ARGV[1], 42, {'string', 'OK', {'T0s='}}}",
        [key("k")],
        ["日本 😀"],
      );
      expect(result).toEqual([key("k"), "日本 😀", 42, ["string", "OK", ["T0s="]]]);
    });
  });

  describe("publish and subscribe over SSE", () => {
    it("subscribe delivers JSON objects and strings exactly; unsubscribe closes the bridge's subscriber connection", async () => {
      const channel = key("chan");
      const sub = redis.subscribe<unknown>([channel]);
      const received: Array<{ channel: string; message: unknown }> = [];
      const failures: unknown[] = [];
      sub.on("message", (event) => received.push(event));
      sub.on("error", (error) => failures.push(error));
      try {
        const count = await within(
          new Promise<number>((resolve) => sub.on("subscribe", resolve)),
          5_000,
          "subscribe event",
        );
        expect(count).toBe(1);
        const messages: unknown[] = [
          { gpu: "A100", price: 1.25, tags: ["x", "y"], ok: true },
          "plain text",
          "line one\nline two",
          "commas, and, more,, commas — ünïcødé 日本語 😀",
          { text: 'nested, with a\nnewline and "quotes"', list: [1, 2, 3] },
        ];
        for (const message of messages) expect(await redis.publish(channel, message)).toBe(1);
        await expect.poll(() => received.length, { timeout: 5_000 }).toBe(messages.length);
        expect(received).toEqual(messages.map((message) => ({ channel, message })));
        expect(failures).toEqual([]);
      } finally {
        await sub.unsubscribe();
      }
      // Nobody listens any more: the bridge dropped its subscription with the aborted stream.
      await expect.poll(() => redis.publish(channel, "anyone?"), { timeout: 5_000, interval: 50 }).toBe(0);
      await expect
        .poll(() => raw("/", ["pubsub", "numsub", channel], { utf8: true }).then((res) => res.json()), {
          timeout: 5_000,
          interval: 50,
        })
        .toEqual({ result: [channel, 0] });
    }, 20_000);

    it("psubscribe delivers pmessage events with the pattern and the concrete channel", async () => {
      const pattern = key("news:*");
      const [gpu, cpu, elsewhere] = [key("news:gpu"), key("news:cpu"), key("sports:gpu")];
      const sub = redis.psubscribe<unknown>([pattern]);
      const received: Array<{ pattern: string; channel: string; message: unknown }> = [];
      sub.on("pmessage", (event) => received.push(event));
      try {
        const count = await within(
          new Promise<number>((resolve) => sub.on("psubscribe", resolve)),
          5_000,
          "psubscribe event",
        );
        expect(count).toBe(1);
        // The client JSON-parses pmessage payloads without a fallback, so send JSON values.
        expect(await redis.publish(gpu, { id: 1, name: "H100, 80 GB — 日本" })).toBe(1);
        expect(await redis.publish(elsewhere, { id: 2 })).toBe(0);
        expect(await redis.publish(cpu, [1, "two", { three: 3 }])).toBe(1);
        await expect.poll(() => received.length, { timeout: 5_000 }).toBe(2);
        expect(received).toEqual([
          { pattern, channel: gpu, message: { id: 1, name: "H100, 80 GB — 日本" } },
          { pattern, channel: cpu, message: [1, "two", { three: 3 }] },
        ]);
      } finally {
        await sub.unsubscribe();
      }
      await expect.poll(() => redis.publish(gpu, { id: 3 }), { timeout: 5_000, interval: 50 }).toBe(0);
    }, 20_000);
  });

  describe("values and encoding", () => {
    it.for(TRICKY_VALUES)(
      "round-trips $label exactly through SET/GET and MGET",
      { timeout: 20_000 },
      async ({ value }) => {
        const exact = client({ automaticDeserialization: false });
        const k = key("value");
        expect(await exact.set(k, value)).toBe("OK");
        expect(await exact.get(k)).toBe(value);
        expect(await exact.mget(k, key("missing"), k)).toEqual([value, null, value]);
        expect(await inspector.get(k)).toBe(value);
        // Redis holds the UTF-8 bytes: STRLEN counts them.
        expect(await exact.strlen(k)).toBe(Buffer.byteLength(value, "utf8"));
      },
    );

    it("tricky values survive inside arrays too (HGETALL, LRANGE)", async () => {
      const exact = client({ automaticDeserialization: false });
      const [h, l] = [key("hash"), key("list")];
      const values = TRICKY_VALUES.filter(({ value }) => value.length < 1000).map(({ value }) => value);
      const fields = Object.fromEntries(values.map((value, i) => [`f${i}`, value]));
      expect(await exact.hset(h, fields)).toBe(values.length);
      // Without automatic deserialization the client hands HGETALL's flat field/value array through.
      const flat = (await exact.hgetall(h)) as unknown as string[];
      const pairs = Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
      expect(Object.fromEntries(pairs)).toEqual(fields);
      expect(pairs).toHaveLength(values.length);
      expect(await exact.rpush(l, ...values)).toBe(values.length);
      expect(await exact.lrange(l, 0, -1)).toEqual(values);
    });

    it("raw bytes that are not UTF-8 are base64 of the exact bytes", async () => {
      const k = key("bytes");
      const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x0d, 0x0a, 0xc3]);
      // JSON carries only text, so a script plants the bytes (Lua's decimal escapes).
      const planted = await raw(
        "/",
        [
          "eval",
          `return redis.call('SET', KEYS[1], '${[...bytes].map((byte) => `\\${byte}`).join("")}')`,
          1,
          k,
        ],
        { utf8: true },
      );
      expect(planted.json()).toEqual({ result: "OK" });
      if (capabilities.directAccess) expect(await inspector.direct?.getBuffer(k)).toEqual(bytes);
      const res = await raw("/", ["get", k], {
        headers: { ...authHeaders(token), "upstash-encoding": "base64" },
      });
      expect(res.json()).toEqual({ result: bytes.toString("base64") });
      const multi = await raw("/multi-exec", [["get", k]], {
        headers: { ...authHeaders(token), "upstash-encoding": "base64" },
      });
      expect(multi.json()).toEqual([{ result: bytes.toString("base64") }]);
    });

    it("status replies (TYPE, PING, SET) decode correctly", async () => {
      const [s, h, l, st, z, x] = ["s", "h", "l", "st", "z", "x"].map(key) as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      expect(await redis.set(s, "v")).toBe("OK");
      await redis.hset(h, { f: 1 });
      await redis.rpush(l, "a");
      await redis.sadd(st, "a");
      await redis.zadd(z, { score: 1, member: "a" });
      await redis.xadd(x, "*", { f: "v" });
      expect(await redis.type(s)).toBe("string");
      expect(await redis.type(h)).toBe("hash");
      expect(await redis.type(l)).toBe("list");
      expect(await redis.type(st)).toBe("set");
      expect(await redis.type(z)).toBe("zset");
      expect(await redis.type(key("missing"))).toBe("none");
      expect(await redis.ping()).toBe("PONG");
      // The wire form: a status reply is base64 like any other string under Upstash-Encoding.
      expect((await raw("/", ["type", s])).json()).toEqual({ result: wire("string") });
      expect((await raw("/pipeline", [["type", h], ["ping"]])).json()).toEqual([
        { result: wire("hash") },
        { result: wire("PONG") },
      ]);
      expect(await redis.type(x)).toBe("stream");
    });

    it("Upstash-Encoding: base64 answers base64 of the UTF-8 bytes; without it, the same value as text", async () => {
      const k = key("k");
      const value = "gpu ✓ 日本 😀 \u0000 end";
      expect((await raw("/", ["set", k, value])).status).toBe(200);
      const b64Headers = { ...authHeaders(token), "upstash-encoding": "base64" };
      const encoded = await raw("/", ["get", k], { headers: b64Headers });
      expect(encoded.json()).toEqual({ result: Buffer.from(value, "utf8").toString("base64") });
      const plain = await raw("/", ["get", k], { headers: authHeaders(token) });
      expect(plain.json()).toEqual({ result: value });
      expect(
        (
          await raw(
            "/pipeline",
            [
              ["get", k],
              ["exists", k],
            ],
            { headers: b64Headers },
          )
        ).json(),
      ).toEqual([{ result: base64(value) }, { result: 1 }]);
      expect((await raw("/multi-exec", [["get", k]], { headers: authHeaders(token) })).json()).toEqual([
        { result: value },
      ]);
      // Nil stays null and numbers stay numbers under base64.
      expect((await raw("/", ["get", key("missing")], { headers: b64Headers })).json()).toEqual({
        result: null,
      });
      expect((await raw("/", ["exists", k], { headers: b64Headers })).json()).toEqual({ result: 1 });
    });
  });

  describe("errors", () => {
    it("a command against the wrong type is 400 {error}, the client throws, and the value is untouched", async () => {
      const text = key("text");
      await redis.set(text, "not a list");
      const res = await raw("/", ["lpush", text, "x"]);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = res.json() as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).toEqual(expect.stringMatching(/\S/));
      await expect(redis.lpush(text, "x")).rejects.toThrow(errors.UpstashError);
      expect(await inspector.get(text)).toBe("not a list");
      expect(body).toEqual({ error: WRONGTYPE });
      await expect(redis.hget(text, "field")).rejects.toThrow(WRONGTYPE);
    });

    it("INCR of a non-integer is 400 'ERR value is not an integer or out of range'", async () => {
      const k = key("text");
      await redis.set(k, "abc");
      const res = await raw("/", ["incr", k]);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: NOT_AN_INTEGER });
      await expect(redis.incr(k)).rejects.toThrow(NOT_AN_INTEGER);
      await expect(redis.incrby(k, 2)).rejects.toThrow(NOT_AN_INTEGER);
      expect(await inspector.get(k)).toBe("abc");
    });

    it("an unknown command is 400 with Redis's unknown-command text", async () => {
      const res = await raw("/", ["nosuchcmd", "a", "b"]);
      expect(res.status).toBe(400);
      const { error } = res.json() as { error: string };
      expect(error).toMatch(/^ERR unknown command 'nosuchcmd', with args beginning with: /i);
      await expect(redis.exec(["nosuchcmd", "a"])).rejects.toThrow(/unknown command/i);
      // The name as the bridge forwards it: upper-cased.
      expect(error).toBe("ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ");
      if (!capabilities.directAccess) return;
      // Verbatim: exactly what Redis answers to that command.
      const direct = await inspector.direct
        ?.call("NOSUCHCMD", "a", "b")
        .catch((reason: Error) => reason.message);
      expect(error).toBe(direct);
    });
  });

  describe("HTTP surface", () => {
    it("a wrong token is 401 {error: Unauthorized}, the client throws, and nothing is written", async () => {
      const k = key("k");
      const res = await raw("/", ["set", k, "v"], { headers: authHeaders("wrong-token") });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ error: "Unauthorized" });
      const intruder = createClient(combo, url, "wrong-token");
      await expect(intruder.set(k, "v")).rejects.toThrow(/Unauthorized/);
      const p = intruder.pipeline();
      p.set(k, "v");
      await expect(p.exec()).rejects.toThrow(/Unauthorized/);
      await expect(intruder.multi().set(k, "v").exec()).rejects.toThrow(/Unauthorized/);
      expect(await inspector.exists(k)).toBe(0);
    });

    it.for<{ name: string; headers: Record<string, string> }>([
      { name: "no Authorization header", headers: { "content-type": "application/json" } },
      {
        name: "an empty bearer token",
        headers: { "content-type": "application/json", authorization: "Bearer " },
      },
      {
        name: "a Basic scheme with the right secret",
        headers: { "content-type": "application/json", authorization: `Basic ${inject("bridgeToken")}` },
      },
    ])("$name is 401 {error: Unauthorized}", async ({ headers }) => {
      const k = key("k");
      for (const path of ["/", "/pipeline", "/multi-exec"]) {
        const res = await raw(path, path === "/" ? ["set", k, "v"] : [["set", k, "v"]], { headers });
        expect(res.status).toBe(401);
        expect(res.json()).toEqual({ error: "Unauthorized" });
      }
      expect(await inspector.exists(k)).toBe(0);
    });

    it.for(BAD_BODIES)("$name is 400 with a JSON error, and nothing is written", async ({ path, body }) => {
      const k = key("k");
      const res = await raw(path, body(k));
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const parsed = res.json() as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(["error"]);
      expect(parsed.error).toEqual(expect.stringMatching(/\S/));
      expect(await inspector.exists(k, `${k}:2`)).toBe(0);
    });

    it.for(REFUSED_COMMANDS)(
      "refuses $label with 400 naming the command, promptly, on every endpoint",
      async ({ name, command }) => {
        const [k, marker] = [key("k"), key("marker")];
        // A blocking command reaching Redis would hang here; the timeout turns that into a failure.
        const single = await raw("/", command(k), { signal: AbortSignal.timeout(3_000) });
        expect(single.status).toBe(400);
        const { error } = single.json() as { error: string };
        expect(error.toLowerCase()).toContain(`'${name}'`);
        for (const path of ["/pipeline", "/multi-exec"]) {
          const batch = await raw(path, [["set", marker, "v"], command(k)], {
            signal: AbortSignal.timeout(3_000),
          });
          expect(batch.status).toBe(400);
          expect((batch.json() as { error: string }).error.toLowerCase()).toContain(`'${name}'`);
        }
        expect(await inspector.exists(marker)).toBe(0);
        // The shared connection is still in normal mode and serving.
        expect(await redis.set(k, "still fine")).toBe("OK");
        expect(await redis.get(k)).toBe("still fine");
      },
    );

    it("answers every response with a new upstash-sync-token (single, pipeline, multi, script)", async () => {
      const k = key("k");
      const responses = [
        await raw("/", ["set", k, "1"]),
        await raw("/pipeline", [
          ["incr", k],
          ["get", k],
        ]),
        await raw("/multi-exec", [
          ["incr", k],
          ["get", k],
        ]),
        await raw("/", ["eval", "return redis.call('INCR', KEYS[1])", 1, k]),
        await raw("/", ["evalsha", sha1(`return 1 -- ${prefix}`), 0]),
        await raw("/", ["get", k]),
      ];
      expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 400, 200]);
      const tokens = responses.map((res) => res.headers.get("upstash-sync-token"));
      for (const syncToken of tokens) expect(syncToken).toEqual(expect.stringMatching(/\S/));
      expect(new Set(tokens).size).toBe(tokens.length);

      // The client stores the header and moves on with every request.
      const seen = [redis.readYourWritesSyncToken];
      await redis.set(k, "x");
      seen.push(redis.readYourWritesSyncToken);
      await redis.pipeline().get(k).exec();
      seen.push(redis.readYourWritesSyncToken);
      await redis.multi().get(k).exec();
      seen.push(redis.readYourWritesSyncToken);
      await redis.createScript(`return 1 -- ${prefix}`).exec([], []);
      seen.push(redis.readYourWritesSyncToken);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it("an unknown path is 404 with a JSON error", async () => {
      for (const path of ["/no-such-endpoint", "/pipeline/extra", "/publish/chan"]) {
        const res = await raw(path, ["get", "k"]);
        expect(res.status).toBe(404);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        expect((res.json() as { error: unknown }).error).toEqual(expect.stringMatching(/\S/));
      }
    });

    it("GET / (and other non-POST methods) is 405 with a JSON error", async () => {
      for (const [method, path] of [
        ["GET", "/"],
        ["GET", "/pipeline"],
        ["PUT", "/"],
        ["DELETE", "/multi-exec"],
      ] as const) {
        const res = await raw(path, ["get", "k"], { method });
        expect(res.status).toBe(405);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        expect((res.json() as { error: unknown }).error).toEqual(expect.stringMatching(/\S/));
      }
    });

    it("a body over maxBodyBytes is 413 with a JSON error, and nothing is written", async () => {
      const small = await startBridgeServer({
        token,
        maxBodyBytes: 1024,
        ...(combo.backend === "redis" ? { redisUrl } : {}),
      });
      try {
        const [big, fits] = [key("big"), key("fits")];
        const oversize = ["set", big, "x".repeat(2048)];
        const declared = await rawRequest(small.url, token, combo.responseEncoding, "/", oversize);
        expect(declared.status).toBe(413);
        expect(declared.headers.get("content-type")).toMatch(/^application\/json/);
        expect((declared.json() as { error: unknown }).error).toEqual(expect.stringMatching(/\S/));

        // Streamed without a Content-Length, the limit still holds.
        const bytes = new TextEncoder().encode(JSON.stringify(oversize));
        const streamed = await fetch(`${small.url}/`, {
          method: "POST",
          headers: authHeaders(token),
          body: new ReadableStream({
            start(controller) {
              controller.enqueue(bytes.subarray(0, 600));
              controller.enqueue(bytes.subarray(600));
              controller.close();
            },
          }),
          duplex: "half",
        } as RequestInit);
        expect(streamed.status).toBe(413);
        expect(JSON.parse(await streamed.text())).toEqual({ error: expect.stringMatching(/\S/) });

        const tooBigClient = createClient(combo, small.url, token);
        await expect(tooBigClient.set(big, "x".repeat(2048))).rejects.toThrow(errors.UpstashError);
        // Within the limit, the same bridge works.
        expect(await tooBigClient.set(fits, "small")).toBe("OK");
        const exists = await rawRequest(small.url, token, false, "/", ["exists", big, fits]);
        expect(exists.json()).toEqual({ result: 1 });
      } finally {
        await small.close();
      }
    });

    it("Redis unreachable: 503 with a JSON error, and the client throws instead of hanging", async () => {
      // The emulator is in-process: there is no server that could go away.
      if (!capabilities.unreachableServer) return;
      const server = await startRedisServer();
      // Reconnect attempts wait on these, so the test sees them instead of waiting them out.
      const timers = new ManualTimers();
      const bridge = await startBridgeServer({ token, redisUrl: server.url, timers });
      let bridgeClosed = false;
      let revived: RedisServerChild | undefined;
      try {
        const k = key("k");
        expect(
          (await rawRequest(bridge.url, token, combo.responseEncoding, "/", ["set", k, "v"])).status,
        ).toBe(200);
        await server.stop();
        for (const [path, body] of [
          ["/", ["get", k]],
          ["/pipeline", [["get", k]]],
          ["/multi-exec", [["get", k]]],
          [`/subscribe/${encodeURIComponent(key("chan"))}`, []],
        ] as const) {
          const res = await within(
            rawRequest(bridge.url, token, combo.responseEncoding, path, body),
            8_000,
            `POST ${path} with Redis down`,
          );
          expect(res.status).toBe(503);
          expect(res.headers.get("content-type")).toMatch(/^application\/json/);
          expect((res.json() as { error: unknown }).error).toEqual(expect.stringMatching(/\S/));
        }
        const stranded = createClient(combo, bridge.url, token);
        await expect(within(stranded.get(k), 8_000, "client.get with Redis down")).rejects.toThrow(
          errors.UpstashError,
        );

        // Closing the bridge while its Redis is gone must still release every connection: once a
        // server is back on that port, none of them may reconnect. Every reconnect attempt waits
        // on the injected timers: the connections are waiting to reconnect now, and after the
        // close no attempt is pending, nor scheduled once the server is back.
        expect(timers.pendingCount).toBeGreaterThan(0);
        await within(bridge.close(), 8_000, "closing a bridge whose Redis is gone");
        bridgeClosed = true;
        expect(timers.pendingCount).toBe(0);
        revived = await startRedisServer({ port: server.port });
        timers.advance(MAX_RECONNECT_DELAY_MS);
        expect(timers.pendingCount).toBe(0);
        const observer = new IORedis(revived.url, { maxRetriesPerRequest: 1 });
        try {
          expect(String(await observer.call("CLIENT", "LIST"))).not.toMatch(/name=upstash-bridge/);
        } finally {
          observer.disconnect();
        }
      } finally {
        await server.stop();
        if (!bridgeClosed) await within(bridge.close(), 8_000, "closing a bridge whose Redis is gone");
        await revived?.stop();
      }
    }, 45_000);
  });
});
