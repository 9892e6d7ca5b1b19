/**
 * The L2 store's Redis side on its own (core/cache/l2-store.ts): reading Lambda-written
 * records, the race-safe fill script (version check, invalidation-log check, tag
 * index) and the invalidation-log read (entries since a cursor, and when the cursor
 * may have lost entries), and tags' versions. Real Redis through the bridge, exactly as the
 * Worker talks to it.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createRedisL2Store, type L2Store } from "../../../core/cache/l2-store";
import { createKeyspace, type Keyspace } from "../../../core/keys";
import type { L2Record } from "../../../core/read-model";
import { LambdaSide, readHash, uniquePrefix, upstashClient } from "./helpers";

const redis = upstashClient();
const lambda = new LambdaSide();
afterAll(() => lambda.close());

function fresh(label: string): { keys: Keyspace; store: L2Store } {
  const keys = createKeyspace(uniquePrefix(label));
  return { keys, store: createRedisL2Store(redis, keys) };
}

const record = (version: number, body: string, tags: string[] = ["gpu:g1"]): L2Record => ({
  version,
  body,
  tags,
  storedAt: 1_700_000_000_000,
});

async function appendMany(keys: Keyspace, count: number, tag = "noise"): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) ids.push(await lambda.appendLog(keys, [`${tag}:${index}`]));
  return ids;
}

describe("get", () => {
  it("decodes a record the Lambda wrote, byte for byte", async () => {
    const { keys, store } = fresh("get");
    const body = '{"a":"\\u0000 日本 🚀","n":1.50,"nested":{"x":[1,2]}}';
    await lambda.writeRecord(keys.gpu("g1"), record(7, body, ["gpu:g1", "gpus:*:*"]));
    expect(await store.get(keys.gpu("g1"))).toEqual(record(7, body, ["gpu:g1", "gpus:*:*"]));
  });

  it("is undefined for a missing key and for a malformed hash", async () => {
    const { keys, store } = fresh("get-missing");
    expect(await store.get(keys.gpu("none"))).toBeUndefined();
    await lambda.io.hset(keys.gpu("broken"), { v: "3", t: "gpu:broken", s: "1" }); // no body
    expect(await store.get(keys.gpu("broken"))).toBeUndefined();
    await lambda.io.hset(keys.gpu("bad-version"), { v: "three", b: "{}", t: "", s: "1" });
    expect(await store.get(keys.gpu("bad-version"))).toBeUndefined();
  });
});

describe("tagVersions", () => {
  it("reads each tag's version in the order asked, undefined where a tag has none", async () => {
    const { keys, store } = fresh("tag-versions");
    await lambda.io.set(keys.tagVersion("gpus:*:*"), "1700000000000-3");
    await lambda.io.set(keys.tagVersion("gpu:g1"), "1700000000001-0");

    expect(await store.tagVersions(["gpu:g1", "never:named", "gpus:*:*"])).toEqual([
      "1700000000001-0",
      undefined,
      "1700000000000-3",
    ]);
    expect(await store.tagVersions([])).toEqual([]);
  });
});

describe("fill", () => {
  const options = (sinceLogId: string, indexed = false) => ({ ttlSeconds: 60, sinceLogId, indexed });

  it("stores a record with its TTL when nothing is there", async () => {
    const { keys, store } = fresh("fill-new");
    const key = keys.gpu("g1");
    expect(await store.fill(key, record(2, '{"v":2}'), options("0-0"))).toBe("stored");
    expect(await readHash(redis, key)).toEqual({ v: "2", b: '{"v":2}', t: "gpu:g1", s: "1700000000000" });
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("refuses to replace an equal or newer version ('older'), replaces an older one", async () => {
    const { keys, store } = fresh("fill-version");
    const key = keys.gpu("g1");
    await lambda.writeRecord(key, record(5, '{"v":5}'));
    expect(await store.fill(key, record(4, '{"v":4}'), options("0-0"))).toBe("older");
    expect(await store.fill(key, record(5, '{"v":"5b"}'), options("0-0"))).toBe("older");
    expect((await readHash(redis, key))?.b).toBe('{"v":5}');
    expect(await store.fill(key, record(6, '{"v":6}'), options("0-0"))).toBe("stored");
    expect((await readHash(redis, key))?.v).toBe("6");
  });

  it("lets an unversioned (aggregate) value replace the previous aggregate", async () => {
    const { keys, store } = fresh("fill-aggregate");
    const key = keys.response("/v1/gpus?limit=50");
    expect(await store.fill(key, record(0, '{"items":[1]}', ["gpus:*:*"]), options("0-0"))).toBe("stored");
    expect(await store.fill(key, record(0, '{"items":[2]}', ["gpus:*:*"]), options("0-0"))).toBe("stored");
    expect((await readHash(redis, key))?.b).toBe('{"items":[2]}');
  });

  it("refuses ('raced') when a log entry after sinceLogId names one of its tags", async () => {
    const { keys, store } = fresh("fill-raced");
    const cursor = await lambda.appendLog(keys, ["gpu:g1"]); // at the cursor: already applied
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor))).toBe("stored");
    await lambda.io.del(keys.gpu("g1"));

    await lambda.appendLog(keys, ["gpu:other", "gpus:*:*"]);
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor))).toBe("stored");
    await lambda.io.del(keys.gpu("g1"));

    await lambda.appendLog(keys, ["stats:x:y", "gpu:g1"]);
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor))).toBe("raced");
    expect(await redis.exists(keys.gpu("g1"))).toBe(0);
    // A tag that only contains the wanted one as a prefix does not count.
    expect(await store.fill(keys.gpu("g"), record(1, "{}", ["gpu:g"]), options(cursor))).toBe("stored");
  });

  it("refuses ('raced') when trimming took the cursor's own entry: what followed it cannot be checked", async () => {
    const { keys, store } = fresh("fill-trimmed");
    const cursor = await lambda.appendLog(keys, ["seed"]);
    await lambda.appendLog(keys, ["gpu:g1"]);
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor))).toBe("raced");
    // The entry naming gpu:g1 is trimmed away with the cursor; only unrelated ones are left.
    await lambda.appendLog(keys, ["noise:a"]);
    await lambda.appendLog(keys, ["noise:b"], { exactMaxLen: 1 });
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor))).toBe("raced");
    expect(await redis.exists(keys.gpu("g1"))).toBe(0);
  });

  it("from the empty-log cursor 0-0, refuses ('raced') once the log has been trimmed, stores before", async () => {
    const { keys, store } = fresh("fill-zero-cursor");
    await lambda.appendLog(keys, ["noise:a"]);
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options("0-0"))).toBe("stored");
    await lambda.io.del(keys.gpu("g1"));
    await lambda.appendLog(keys, ["noise:b"], { exactMaxLen: 1 });
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options("0-0"))).toBe("raced");
  });

  it("refuses ('raced') when more than 1000 entries follow sinceLogId (it cannot check them all)", async () => {
    const { keys, store } = fresh("fill-flood");
    const cursor = await lambda.appendLog(keys, ["seed"]);
    const pipeline = lambda.io.pipeline();
    for (let index = 0; index < 1001; index++) {
      pipeline.xadd(keys.invalidationLog, "*", "tags", `noise:${index}`, "event", `e${index}`, "at", "0");
    }
    await pipeline.exec();
    expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor))).toBe("raced");
  });

  it("registers an indexed fill under each tag's index key; an index's TTL only grows", async () => {
    const { keys, store } = fresh("fill-index");
    const first = keys.response("/v1/gpus?region=r1&limit=50");
    const second = keys.response("/v1/gpus?region=r1&sort=price&limit=50");
    const tags = ["gpus:r1:*", "gpus:*:*"];
    expect(
      await store.fill(first, record(0, "[]", tags), { ttlSeconds: 300, sinceLogId: "0-0", indexed: true }),
    ).toBe("stored");
    expect(
      await store.fill(second, record(0, "[]", tags), { ttlSeconds: 60, sinceLogId: "0-0", indexed: true }),
    ).toBe("stored");
    for (const tag of tags) {
      expect((await redis.smembers(keys.tagIndex(tag))).sort()).toEqual([first, second].sort());
      expect(await redis.pttl(keys.tagIndex(tag))).toBeGreaterThan(200_000);
    }
    expect(await redis.pttl(second)).toBeLessThanOrEqual(60_000);
  });
});

describe("readLog", () => {
  it("without a cursor reports only the end of the log ('0-0' when there is none)", async () => {
    const { keys, store } = fresh("log-end");
    expect(await store.readLog(undefined, 10)).toEqual({ lastId: "0-0", entries: [], lost: false });
    const ids = await appendMany(keys, 3);
    expect(await store.readLog(undefined, 10)).toEqual({ lastId: ids[2], entries: [], lost: false });
  });

  it("returns the entries after the cursor, oldest first, decoded, without the cursor's own", async () => {
    const { keys, store } = fresh("log-read");
    const cursor = await lambda.appendLog(keys, ["gpu:g0"]);
    const first = await lambda.appendLog(keys, ["gpu:g1", "gpus:*:*"], { eventId: "evt-1", at: 111 });
    const second = await lambda.appendLog(keys, ["provider:p1"], { eventId: "manual:op-7", at: 222 });
    expect(await store.readLog(cursor, 10)).toEqual({
      lastId: second,
      lost: false,
      entries: [
        { id: first, tags: ["gpu:g1", "gpus:*:*"], eventId: "evt-1", at: 111 },
        { id: second, tags: ["provider:p1"], eventId: "manual:op-7", at: 222 },
      ],
    });
    expect(await store.readLog(second, 10)).toEqual({ lastId: second, entries: [], lost: false });
  });

  it("reads exactly maxEntries; one more than that is 'lost'", async () => {
    const { keys, store } = fresh("log-max");
    const cursor = await lambda.appendLog(keys, ["seed"]);
    const ids = await appendMany(keys, 3);
    const exact = await store.readLog(cursor, 3);
    expect(exact.lost).toBe(false);
    expect(exact.entries.map((entry) => entry.id)).toEqual(ids);
    await appendMany(keys, 1, "more");
    expect(await store.readLog(cursor, 3)).toMatchObject({ entries: [], lost: true });
  });

  it("from a '0-0' cursor (no log at the first sync) reads everything, and is lost only once trimming began", async () => {
    const { keys, store } = fresh("log-zero");
    const ids = await appendMany(keys, 4);
    const read = await store.readLog("0-0", 10);
    expect(read).toMatchObject({ lost: false, lastId: ids[3] });
    expect(read.entries.map((entry) => entry.id)).toEqual(ids);
    await lambda.appendLog(keys, ["trim"], { exactMaxLen: 2 });
    expect((await store.readLog("0-0", 10)).lost).toBe(true);
  });

  it("is lost when MAXLEN trimming passed the cursor", async () => {
    const { keys, store } = fresh("log-trim");
    await appendMany(keys, 3);
    const cursor = await lambda.appendLog(keys, ["cursor"]);
    for (let index = 0; index < 8; index++) await lambda.appendLog(keys, [`t:${index}`], { exactMaxLen: 5 });
    expect(await store.readLog(cursor, 100)).toMatchObject({ entries: [], lost: true });
  });

  it("is not lost when trimming stopped at the cursor (only older entries went)", async () => {
    const { keys, store } = fresh("log-trim-head");
    const ids = await appendMany(keys, 10);
    const cursor = ids[7] ?? "";
    const added = [
      await lambda.appendLog(keys, ["late:1"], { exactMaxLen: 5 }),
      await lambda.appendLog(keys, ["late:2"], { exactMaxLen: 5 }),
    ];
    const read = await store.readLog(cursor, 100);
    expect(read.lost).toBe(false);
    expect(read.entries.map((entry) => entry.id)).toEqual([ids[8], ids[9], ...added]);
  });

  it("is lost, cautiously, when the cursor's own entry was trimmed (what followed it cannot be known)", async () => {
    const { keys, store } = fresh("log-trim-cursor");
    const cursor = await lambda.appendLog(keys, ["cursor"]);
    await lambda.appendLog(keys, ["next"], { exactMaxLen: 1 });
    expect((await store.readLog(cursor, 100)).lost).toBe(true);
  });

  it("is lost when an entry after the cursor was deleted (XDEL), not when one before it was", async () => {
    const { keys, store } = fresh("log-xdel");
    const [before, cursor, after] = await appendMany(keys, 3);
    await lambda.io.xdel(keys.invalidationLog, before ?? "");
    expect((await store.readLog(cursor, 100)).lost).toBe(false);
    await lambda.io.xdel(keys.invalidationLog, after ?? "");
    expect((await store.readLog(cursor, 100)).lost).toBe(true);
  });

  it("is lost when the log was deleted behind the cursor", async () => {
    const { keys, store } = fresh("log-deleted");
    const cursor = await lambda.appendLog(keys, ["x"]);
    await lambda.io.del(keys.invalidationLog);
    expect(await store.readLog(cursor, 100)).toEqual({ lastId: "0-0", entries: [], lost: true });
  });
});
