/**
 * The L2 store's Redis side on its own (core/cache/l2-store.ts): reading Lambda-written
 * records, the race-safe fill script (version check, invalidation-log check, tag
 * index, and the refusal of a fill whose log position is gone) and the invalidation-log read
 * (entries since a cursor, when the cursor may have lost entries, and when it belongs to another
 * log: the epoch a Redis that came back empty no longer has), and tags' versions. Over every
 * backend (the real redis-server and the emulator), each through its bridge, exactly as the
 * Worker talks to it.
 */
import { describe, expect, it } from "vitest";
import { createRedisL2Store, type L2Store } from "../../../core/cache/l2-store";
import { createKeyspace, type Keyspace } from "../../../core/keys";
import type { L2Record } from "../../../core/read-model";
import { BACKENDS, readHash, useBackend } from "../../support/redis";

const record = (version: number, body: string, tags: string[] = ["gpu:g1"]): L2Record => ({
  version,
  body,
  tags,
  storedAt: 1_700_000_000_000,
});

describe.for(BACKENDS)("L2 store · $name", (backend) => {
  const { redis, lambda, prefix } = useBackend(backend);

  function fresh(label: string): { keys: Keyspace; store: L2Store } {
    const keys = createKeyspace(prefix(label));
    return { keys, store: createRedisL2Store(redis, keys) };
  }

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
      await lambda.redis.hset(keys.gpu("broken"), { v: "3", t: "gpu:broken", s: "1" }); // no body
      expect(await store.get(keys.gpu("broken"))).toBeUndefined();
      await lambda.redis.hset(keys.gpu("bad-version"), { v: "three", b: "{}", t: "", s: "1" });
      expect(await store.get(keys.gpu("bad-version"))).toBeUndefined();
    });
  });

  describe("tagVersions", () => {
    it("reads each tag's version in the order asked, undefined where a tag has none", async () => {
      const { keys, store } = fresh("tag-versions");
      await lambda.redis.set(keys.tagVersion("gpus:*:*"), "1700000000000-3");
      await lambda.redis.set(keys.tagVersion("gpu:g1"), "1700000000001-0");

      expect(await store.tagVersions(["gpu:g1", "never:named", "gpus:*:*"])).toEqual([
        "1700000000001-0",
        undefined,
        "1700000000000-3",
      ]);
      expect(await store.tagVersions([])).toEqual([]);
    });
  });

  /** The log's epoch, as a Worker's first read learns it (setting it when there is none). */
  async function epochOf(store: L2Store): Promise<string> {
    return (await store.readLog(undefined, 1)).epoch;
  }

  describe("fill", () => {
    const options = (sinceLogId: string, logEpoch: string, indexed = false) => ({
      ttlSeconds: 60,
      sinceLogId,
      logEpoch,
      indexed,
    });

    it("stores a record with its TTL when nothing is there", async () => {
      const { keys, store } = fresh("fill-new");
      const epoch = await epochOf(store);
      const key = keys.gpu("g1");
      expect(await store.fill(key, record(2, '{"v":2}'), options("0-0", epoch))).toBe("stored");
      expect(await readHash(redis, key)).toEqual({
        v: "2",
        b: '{"v":2}',
        t: "gpu:g1",
        s: "1700000000000",
        e: "",
      });
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it("refuses to replace an equal or newer version ('older'), replaces an older one", async () => {
      const { keys, store } = fresh("fill-version");
      const epoch = await epochOf(store);
      const key = keys.gpu("g1");
      await lambda.writeRecord(key, record(5, '{"v":5}'));
      expect(await store.fill(key, record(4, '{"v":4}'), options("0-0", epoch))).toBe("older");
      expect(await store.fill(key, record(5, '{"v":"5b"}'), options("0-0", epoch))).toBe("older");
      expect((await readHash(redis, key))?.b).toBe('{"v":5}');
      expect(await store.fill(key, record(6, '{"v":6}'), options("0-0", epoch))).toBe("stored");
      expect((await readHash(redis, key))?.v).toBe("6");
    });

    it("lets an unversioned (aggregate) value replace the previous aggregate", async () => {
      const { keys, store } = fresh("fill-aggregate");
      const epoch = await epochOf(store);
      const key = keys.response("/v1/gpus?limit=50");
      expect(await store.fill(key, record(0, '{"items":[1]}', ["gpus:*:*"]), options("0-0", epoch))).toBe(
        "stored",
      );
      expect(await store.fill(key, record(0, '{"items":[2]}', ["gpus:*:*"]), options("0-0", epoch))).toBe(
        "stored",
      );
      expect((await readHash(redis, key))?.b).toBe('{"items":[2]}');
    });

    it("refuses ('raced') when a log entry after sinceLogId names one of its tags", async () => {
      const { keys, store } = fresh("fill-raced");
      const epoch = await epochOf(store);
      const cursor = await lambda.appendLog(keys, ["gpu:g1"]); // at the cursor: already applied
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor, epoch))).toBe("stored");
      await lambda.redis.del(keys.gpu("g1"));

      await lambda.appendLog(keys, ["gpu:other", "gpus:*:*"]);
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor, epoch))).toBe("stored");
      await lambda.redis.del(keys.gpu("g1"));

      await lambda.appendLog(keys, ["stats:x:y", "gpu:g1"]);
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor, epoch))).toBe("raced");
      expect(await redis.exists(keys.gpu("g1"))).toBe(0);
      // A tag that only contains the wanted one as a prefix does not count.
      expect(await store.fill(keys.gpu("g"), record(1, "{}", ["gpu:g"]), options(cursor, epoch))).toBe(
        "stored",
      );
    });

    it("refuses ('raced') when trimming took the cursor's own entry: what followed it cannot be checked", async () => {
      const { keys, store } = fresh("fill-trimmed");
      const epoch = await epochOf(store);
      const cursor = await lambda.appendLog(keys, ["seed"]);
      await lambda.appendLog(keys, ["gpu:g1"]);
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor, epoch))).toBe("raced");
      // The entry naming gpu:g1 is trimmed away with the cursor; only unrelated ones are left.
      await lambda.appendLog(keys, ["noise:a"]);
      await lambda.appendLog(keys, ["noise:b"], { exactMaxLen: 1 });
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor, epoch))).toBe("raced");
      expect(await redis.exists(keys.gpu("g1"))).toBe(0);
    });

    it("from the empty-log cursor 0-0, refuses ('raced') once the log has been trimmed, stores before", async () => {
      const { keys, store } = fresh("fill-zero-cursor");
      const epoch = await epochOf(store);
      await lambda.appendLog(keys, ["noise:a"]);
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options("0-0", epoch))).toBe("stored");
      await lambda.redis.del(keys.gpu("g1"));
      await lambda.appendLog(keys, ["noise:b"], { exactMaxLen: 1 });
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options("0-0", epoch))).toBe("raced");
    });

    it("refuses ('raced') when more than 1000 entries follow sinceLogId (it cannot check them all)", async () => {
      const { keys, store } = fresh("fill-flood");
      const epoch = await epochOf(store);
      const cursor = await lambda.appendLog(keys, ["seed"]);
      await lambda.appendLogs(
        keys,
        Array.from({ length: 1001 }, (_, index) => [`noise:${index}`]),
      );
      expect(await store.fill(keys.gpu("g1"), record(1, "{}"), options(cursor, epoch))).toBe("raced");
    });

    it("registers an indexed fill under each tag's index key; an index's TTL only grows", async () => {
      const { keys, store } = fresh("fill-index");
      const epoch = await epochOf(store);
      const first = keys.response("/v1/gpus?region=r1&limit=50");
      const second = keys.response("/v1/gpus?region=r1&sort=price&limit=50");
      const tags = ["gpus:r1:*", "gpus:*:*"];
      expect(
        await store.fill(first, record(0, "[]", tags), {
          ttlSeconds: 300,
          sinceLogId: "0-0",
          logEpoch: epoch,
          indexed: true,
        }),
      ).toBe("stored");
      expect(
        await store.fill(second, record(0, "[]", tags), {
          ttlSeconds: 60,
          sinceLogId: "0-0",
          logEpoch: epoch,
          indexed: true,
        }),
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
      const first = await store.readLog(undefined, 10);
      expect(first).toEqual({
        lastId: "0-0",
        epoch: expect.any(String),
        entries: [],
        lost: false,
        reset: false,
      });
      const ids = await appendMany(keys, 3);
      expect(await store.readLog(undefined, 10)).toEqual({
        lastId: ids[2],
        epoch: first.epoch,
        entries: [],
        lost: false,
        reset: false,
      });
    });

    it("returns the entries after the cursor, oldest first, decoded, without the cursor's own", async () => {
      const { keys, store } = fresh("log-read");
      const cursor = await lambda.appendLog(keys, ["gpu:g0"]);
      const first = await lambda.appendLog(keys, ["gpu:g1", "gpus:*:*"], { eventId: "evt-1", at: 111 });
      const second = await lambda.appendLog(keys, ["provider:p1"], { eventId: "manual:op-7", at: 222 });
      const epoch = await epochOf(store);
      expect(await store.readLog(cursor, 10, epoch)).toEqual({
        lastId: second,
        epoch,
        lost: false,
        reset: false,
        entries: [
          { id: first, tags: ["gpu:g1", "gpus:*:*"], eventId: "evt-1", at: 111, records: [] },
          { id: second, tags: ["provider:p1"], eventId: "manual:op-7", at: 222, records: [] },
        ],
      });
      expect(await store.readLog(second, 10, epoch)).toEqual({
        lastId: second,
        epoch,
        entries: [],
        lost: false,
        reset: false,
      });
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
      for (let index = 0; index < 8; index++)
        await lambda.appendLog(keys, [`t:${index}`], { exactMaxLen: 5 });
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
      await lambda.redis.xdel(keys.invalidationLog, before ?? "");
      expect((await store.readLog(cursor, 100)).lost).toBe(false);
      await lambda.redis.xdel(keys.invalidationLog, after ?? "");
      expect(await store.readLog(cursor, 100)).toMatchObject({ lost: true, reset: false });
    });

    it("is neither lost nor reset when XDEL took exactly the cursor's own entry (behind the head)", async () => {
      const { keys, store } = fresh("log-xdel-cursor");
      const epoch = await epochOf(store);
      // An entry before the cursor: a missing head entry is read as trimming, cautiously.
      const [, cursor, after] = await appendMany(keys, 3);
      await lambda.redis.xdel(keys.invalidationLog, cursor ?? "");
      const read = await store.readLog(cursor, 100, epoch);
      expect(read).toMatchObject({ lost: false, reset: false });
      expect(read.entries.map((entry) => entry.id)).toEqual([after]);
    });

    it("is lost and reset when the log was deleted behind the cursor", async () => {
      const { keys, store } = fresh("log-deleted");
      const epoch = await epochOf(store);
      const cursor = await lambda.appendLog(keys, ["x"]);
      await lambda.redis.del(keys.invalidationLog);
      expect(await store.readLog(cursor, 100, epoch)).toEqual({
        lastId: "0-0",
        epoch,
        entries: [],
        lost: true,
        reset: true,
      });
    });
  });

  describe("readLog after Redis lost its data (the log's epoch)", () => {
    /** Every key of the keyspace gone, as when Redis restarts empty (the test shares the server). */
    async function emptyKeyspace(keys: Keyspace): Promise<void> {
      let cursor = "0";
      do {
        const [next, found] = await lambda.redis.scan(cursor, { match: `${keys.root}*`, count: 1000 });
        if (found.length > 0) await lambda.redis.del(...found);
        cursor = String(next);
      } while (cursor !== "0");
    }

    it("the first read sets the epoch, later reads keep it, and an emptied keyspace gets a new one", async () => {
      const { keys, store } = fresh("epoch-set");
      expect(await redis.exists(keys.logEpoch)).toBe(0);
      const epoch = await epochOf(store);
      expect(epoch).toMatch(/^[0-9a-f-]{36}$/);
      expect(String(await redis.get(keys.logEpoch))).toBe(epoch);
      await appendMany(keys, 2);
      expect(await epochOf(store)).toBe(epoch);
      expect((await store.readLog("0-0", 10, epoch)).epoch).toBe(epoch);

      await emptyKeyspace(keys);
      const next = await epochOf(store);
      expect(next).not.toBe(epoch);
      expect(String(await redis.get(keys.logEpoch))).toBe(next);
    });

    it("is lost and reset when Redis came back empty and another event landed first (the cursor is below it)", async () => {
      const { keys, store } = fresh("epoch-restart");
      const epoch = await epochOf(store);
      const cursor = await lambda.appendLog(keys, ["seed"]); // the isolate's cursor
      await lambda.appendLog(keys, ["gpu:g1"]); // E1: acknowledged, not yet read
      await emptyKeyspace(keys);
      const second = await lambda.appendLog(keys, ["gpu:g2"]); // E2, into the new log

      const read = await store.readLog(cursor, 100, epoch);
      expect(read).toMatchObject({ lastId: second, entries: [], lost: true, reset: true });
      expect(read.epoch).not.toBe(epoch);
      // A caller that knew no epoch still sees it: the cursor's entry is gone and nothing says how.
      expect(await store.readLog(cursor, 100)).toMatchObject({ lost: true, reset: true });
    });

    it("from the empty-log cursor 0-0, a log that is empty again, or has new entries, is a reset by its epoch", async () => {
      const { keys, store } = fresh("epoch-zero");
      const epoch = await epochOf(store);
      expect(await store.readLog("0-0", 10, epoch)).toMatchObject({ lost: false, reset: false });
      await lambda.appendLog(keys, ["gpu:g1"]); // E1, unseen
      await emptyKeyspace(keys);
      const emptyAgain = await store.readLog("0-0", 10, epoch);
      expect(emptyAgain).toMatchObject({ lastId: "0-0", lost: true, reset: true });

      await emptyKeyspace(keys);
      await lambda.appendLog(keys, ["gpu:g2"]);
      expect(await store.readLog("0-0", 10, emptyAgain.epoch)).toMatchObject({ lost: true, reset: true });
    });

    it("is reset when a replica that was behind took over (same epoch): the cursor's entry was never there", async () => {
      const { keys, store } = fresh("epoch-replica");
      const epoch = await epochOf(store);
      const log = keys.invalidationLog;
      const entry = { tags: "noise", event: "e", at: "1" };
      for (const id of ["1-0", "2-0", "3-0"]) await lambda.redis.xadd(log, id, entry);
      // The replica had 1-0 only; the isolate's cursor is 3-0.
      await lambda.redis.del(log);
      await lambda.redis.xadd(log, "1-0", entry);
      expect(await store.readLog("3-0", 10, epoch)).toMatchObject({ lastId: "1-0", lost: true, reset: true });
      // After the failover an event lands past the cursor.
      await lambda.redis.xadd(log, "5-0", entry);
      expect(await store.readLog("3-0", 10, epoch)).toMatchObject({
        lastId: "5-0",
        epoch,
        entries: [],
        lost: true,
        reset: true,
      });
    });

    it("a fill that began before the reset is refused ('raced'): no epoch yet, or another one", async () => {
      const { keys, store } = fresh("epoch-fill");
      const epoch = await epochOf(store);
      const fill = (sinceLogId: string, logEpoch: string) =>
        store.fill(keys.gpu("g1"), record(1, '{"v":1}'), {
          ttlSeconds: 60,
          sinceLogId,
          logEpoch,
          indexed: false,
        });
      const cursor = await lambda.appendLog(keys, ["seed"]);

      await emptyKeyspace(keys);
      expect(await fill("0-0", epoch)).toBe("raced");
      expect(await fill(cursor, epoch)).toBe("raced");
      await lambda.appendLog(keys, ["gpu:other"]); // E2 lands first
      expect(await fill("0-0", epoch)).toBe("raced");
      const next = await epochOf(store);
      expect(await fill("0-0", epoch)).toBe("raced");
      expect(await redis.exists(keys.gpu("g1"))).toBe(0);
      // A fill from the new log's position goes in.
      const { lastId } = await store.readLog(undefined, 10);
      expect(await fill(lastId, next)).toBe("stored");
    });
  });
});
