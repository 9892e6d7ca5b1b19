/**
 * The event Lambda's Redis step (lambdas/events/apply.ts) over every backend (the real
 * redis-server and the emulator, each through its bridge), read back as the Worker reads
 * it (@upstash/redis): what each event writes, drops, logs and publishes; ordering by
 * version, dedupe, the per-record version guard of fan-out, batches, and all-or-nothing
 * when a command would fail.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createRedisL2Store } from "../../../core/cache/l2-store";
import { DEFAULT_DATA_CLASS_POLICIES } from "../../../core/data-classes";
import type { Gpu } from "../../../core/domain";
import { strongEtag } from "../../../core/etag";
import { EVENT_TYPES, type MarketplaceEvent } from "../../../core/events";
import { LOG_PUSH_MAX_BYTES } from "../../../core/invalidation-log";
import { collectionViewsOf, createKeyspace, type Keyspace, LISTING_ORDERS } from "../../../core/keys";
import type { L2Record } from "../../../core/read-model";
import { TAG_VERSION_TTL_SECONDS } from "../../../core/tag-versions";
import { APPLIED_EVENT_TTL_SECONDS, createEventApplier } from "../../../lambdas/events/apply";
import { planEvent } from "../../../lambdas/events/effects";
import {
  BACKENDS,
  ChannelListener,
  diff,
  EventFactory,
  parsed,
  type RawEvent,
  readHash,
  snapshot,
  useBackend,
} from "../../support/event-fixtures";

const NOW = 1_800_000_000_000;

const record = (version: number, body: string, tags: string[] = ["seed"]): L2Record => ({
  version,
  body,
  tags,
  storedAt: 1,
});

interface Written {
  key: string;
  entity: { version: number };
  tag: string;
  ttlSeconds: number;
}

/** The records an event must write through, worked out from the event alone (not from the plan). */
function expectedWrites(raw: RawEvent, keys: Keyspace): Written[] {
  const gpuWrite = (gpu: Gpu): Written => ({
    key: keys.gpu(gpu.gpuId),
    entity: gpu,
    tag: `gpu:${gpu.gpuId}`,
    ttlSeconds: 3600,
  });
  const data = raw.data;
  switch (raw.type) {
    case "gpu.upserted":
    case "gpu.status_changed":
    case "booking.created":
    case "booking.cancelled":
      return [gpuWrite(data.gpu as Gpu)];
    case "pricing.updated": {
      const price = data.price as { gpuType: string; region: string; version: number };
      return [
        {
          key: keys.price(price.gpuType, price.region),
          entity: price,
          tag: `price:${price.gpuType}:${price.region}`,
          ttlSeconds: 900,
        },
        ...(data.gpus as Gpu[]).map(gpuWrite),
      ];
    }
    case "provider.status_changed": {
      const provider = data.provider as { providerId: string; version: number };
      return [
        {
          key: keys.provider(provider.providerId),
          entity: provider,
          tag: `provider:${provider.providerId}`,
          ttlSeconds: 900,
        },
        ...(data.gpus as Gpu[]).map(gpuWrite),
      ];
    }
    case "market.stats_updated": {
      const stats = data.stats as { region: string; gpuType: string; version: number };
      return [
        {
          key: keys.marketStats(stats.region, stats.gpuType),
          entity: stats,
          tag: `stats:${stats.region}:${stats.gpuType}`,
          ttlSeconds: 300,
        },
      ];
    }
    case "orderbook.updated": {
      const book = data.orderBook as { gpuType: string; region: string; version: number };
      return [
        {
          key: keys.orderBook(book.gpuType, book.region),
          entity: book,
          tag: `orderbook:${book.gpuType}:${book.region}`,
          ttlSeconds: 60,
        },
      ];
    }
    case "cache.invalidate":
      return [];
  }
}

/** The collection views a written price, stats or order-book record is listed in. */
function collectionKeysOf(keys: Keyspace, write: Written): string[] {
  const { gpuType, region } = write.entity as unknown as { gpuType: string; region: string };
  if (write.key === keys.price(gpuType, region)) return collectionViewsOf(keys, "prices", gpuType, region);
  if (write.key === keys.marketStats(region, gpuType))
    return collectionViewsOf(keys, "stats", region, gpuType);
  if (write.key === keys.orderBook(gpuType, region))
    return collectionViewsOf(keys, "orderbooks", gpuType, region);
  return [];
}

/** The derived records an event must drop, worked out from the event alone. */
function expectedDeletes(raw: RawEvent, keys: Keyspace): string[] {
  const data = raw.data;
  const statsOf = (gpus: Gpu[]) => gpus.map((gpu) => keys.marketStats(gpu.region, gpu.gpuType));
  switch (raw.type) {
    case "gpu.upserted":
    case "gpu.status_changed":
      return statsOf([data.gpu as Gpu]);
    case "booking.created":
    case "booking.cancelled": {
      const gpu = data.gpu as Gpu;
      return [keys.marketStats(gpu.region, gpu.gpuType), keys.orderBook(gpu.gpuType, gpu.region)];
    }
    case "pricing.updated": {
      const price = data.price as { gpuType: string; region: string };
      return [keys.marketStats(price.region, price.gpuType)];
    }
    case "provider.status_changed":
      return [...new Set(statsOf(data.gpus as Gpu[]))];
    case "market.stats_updated":
    case "orderbook.updated":
      return [];
    case "cache.invalidate":
      return (data.keys as string[]).map((key) => `${keys.root}${key}`);
  }
}

describe.for(BACKENDS)("event apply · $name", (backend) => {
  const { redis, lambda, prefix } = useBackend(backend);
  const listeners: ChannelListener[] = [];

  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((listener) => listener.close()));
  });

  /** A fresh keyspace, an applier on a clock the test may move, the Worker's L2 store, a subscriber. */
  async function setup(label: string) {
    const keys = createKeyspace(prefix(`ev-${label}`));
    const clock = { ms: NOW, now: () => clock.ms };
    const listener = await ChannelListener.open(redis, keys.eventsChannel);
    listeners.push(listener);
    return {
      keys,
      clock,
      listener,
      applier: createEventApplier(redis, keys, clock, DEFAULT_DATA_CLASS_POLICIES),
      l2: createRedisL2Store(redis, keys),
    };
  }

  async function seedRecord(key: string, value: L2Record): Promise<void> {
    await lambda.writeRecord(key, value);
  }

  /** An aggregate response registered under `tag`, as the Worker's fill does. */
  async function seedIndexed(keys: Keyspace, tag: string, name: string): Promise<string> {
    const member = keys.response(`/seed/${name}`);
    await seedRecord(member, record(0, `{"seed":"${name}"}`, [tag]));
    await lambda.redis.sadd(keys.tagIndex(tag), member);
    return member;
  }

  async function logLength(keys: Keyspace): Promise<number> {
    return Number(await redis.xlen(keys.invalidationLog));
  }

  /** Every log entry, oldest first, as the Worker decodes them. */
  async function logEntries(keys: Keyspace) {
    const read = await createRedisL2Store(redis, keys).readLog("0-0", 1_000);
    expect(read.lost).toBe(false);
    return read.entries;
  }

  describe("one event of each type", () => {
    const oneOfEach = new EventFactory().oneOfEach();

    it.each(EVENT_TYPES)(
      "%s: changes exactly its keys, logs one entry with the plan's tags, publishes once",
      async (type) => {
        const { keys, applier, l2, listener } = await setup(type.replace(".", "-"));
        const raw = oneOfEach[type];
        const event = parsed(raw);
        const plan = planEvent(event, keys, NOW, DEFAULT_DATA_CLASS_POLICIES);
        const writes = expectedWrites(raw, keys);
        const deletes = expectedDeletes(raw, keys);
        expect(plan.writes.map((write) => write.key)).toEqual(writes.map((write) => write.key));
        expect([...plan.deletes].sort()).toEqual([...new Set(deletes)].sort());
        expect(plan.tags.length).toBeGreaterThan(0);

        // What Redis holds before: an older copy of the versioned record, the derived records,
        // aggregate responses indexed under the first tags, and things the event must not touch.
        const [firstWrite] = writes;
        if (firstWrite) {
          await seedRecord(firstWrite.key, record(firstWrite.entity.version - 1, '{"old":true}'));
        }
        for (const key of deletes) await seedRecord(key, record(1, '{"derived":true}'));
        const indexed: string[] = [];
        for (const [index, tag] of plan.tags.slice(0, 3).entries()) {
          indexed.push(keys.tagIndex(tag), await seedIndexed(keys, tag, `hit-${index}`));
        }
        const untouched = [
          keys.gpu("gpu-unrelated"),
          keys.marketStats("nowhere", "none"),
          keys.tagIndex("unrelated:tag"),
          await seedIndexed(keys, "unrelated:tag", "unrelated"),
        ];
        await seedRecord(keys.gpu("gpu-unrelated"), record(9, '{"unrelated":true}'));
        await seedRecord(keys.marketStats("nowhere", "none"), record(9, '{"unrelated":true}'));
        await lambda.appendLog(keys, ["noise"]);
        const cursor = (await l2.readLog(undefined, 100)).lastId;
        const before = await snapshot(redis, keys.root);
        for (const key of [...deletes, ...indexed, ...untouched, keys.invalidationLog])
          expect(before.has(key)).toBe(true);

        const [result, ...rest] = await applier.apply([event]);

        expect(rest).toEqual([]);
        expect(result?.status).toBe("applied");
        expect(result?.purged).toBe(false);
        expect(result?.logId).toMatch(/^\d+-\d+$/);
        expect(result?.plan).toEqual(plan);

        const after = await snapshot(redis, keys.root);
        const change = diff(before, after);
        // Each GPU written is indexed in the 24 listing views of its state (8 filters × 3 orders).
        const gpusWritten = writes.filter((write) => write.key.startsWith(keys.gpu("")));
        const viewKeys = gpusWritten.flatMap((write) => {
          const gpu = write.entity as Gpu;
          return [gpu.region, undefined].flatMap((region) =>
            [gpu.gpuType, undefined].flatMap((type) =>
              [gpu.status, undefined].flatMap((status) =>
                LISTING_ORDERS.map((order) => keys.listingView(region, type, status, order)),
              ),
            ),
          );
        });
        expect([...change.added, ...change.changed].sort()).toEqual(
          [
            ...new Set([
              ...writes.map((write) => write.key),
              keys.appliedEvent(event.id),
              keys.invalidationLog,
              ...plan.tags.map((tag) => keys.tagVersion(tag)),
              ...viewKeys,
              ...(gpusWritten.length > 0 ? [keys.viewMembers] : []),
              ...writes.flatMap((write) => collectionKeysOf(keys, write)),
            ]),
          ].sort(),
        );
        for (const write of gpusWritten) {
          const gpu = write.entity as Gpu;
          expect(await redis.hget(keys.viewMembers, write.key)).toBe(
            `${gpu.region} ${gpu.gpuType} ${gpu.status} ${gpu.version}`,
          );
          expect(
            Number(await redis.zscore(keys.listingView(undefined, undefined, undefined, "price"), write.key)),
          ).toBe(gpu.pricePerHour);
        }
        expect(change.added).toContain(keys.appliedEvent(event.id));
        expect(change.removed).toEqual([...new Set([...deletes, ...indexed])].sort());
        for (const key of untouched) expect(after.get(key)).toBe(before.get(key));

        for (const write of writes) {
          expect(await readHash(redis, write.key)).toEqual({
            v: String(write.entity.version),
            b: JSON.stringify(write.entity),
            t: write.tag,
            s: String(NOW),
            e: await strongEtag(JSON.stringify(write.entity)),
          });
          const ttl = Number(await redis.pttl(write.key));
          expect(ttl).toBeGreaterThan(write.ttlSeconds * 1000 - 60_000);
          expect(ttl).toBeLessThanOrEqual(write.ttlSeconds * 1000);
        }
        // Every tag the event names now has the log entry's id as its version, for the tag-version TTL.
        for (const tag of plan.tags) {
          expect(String(await redis.get(keys.tagVersion(tag))), tag).toBe(result?.logId);
          const ttl = Number(await redis.pttl(keys.tagVersion(tag)));
          expect(ttl).toBeGreaterThan(TAG_VERSION_TTL_SECONDS * 1000 - 60_000);
          expect(ttl).toBeLessThanOrEqual(TAG_VERSION_TTL_SECONDS * 1000);
        }
        expect(String(await redis.get(keys.appliedEvent(event.id)))).toBe("applied");
        const markerTtl = Number(await redis.pttl(keys.appliedEvent(event.id)));
        expect(markerTtl).toBeGreaterThan(APPLIED_EVENT_TTL_SECONDS * 1000 - 60_000);

        // Exactly one log entry, after the cursor the Worker held.
        const read = await l2.readLog(cursor, 100);
        expect(read.lost).toBe(false);
        // The entry carries the records it wrote, first ones first, up to its size cap.
        let pushedBytes = 0;
        const pushed = [];
        for (const write of writes) {
          const body = JSON.stringify(write.entity);
          const etag = await strongEtag(body);
          const bytes = new TextEncoder().encode(body).byteLength + etag.length + write.tag.length;
          if (pushedBytes + bytes > LOG_PUSH_MAX_BYTES) continue;
          pushedBytes += bytes;
          pushed.push({ tag: write.tag, etag, body });
        }
        if (writes.length > 0) expect(pushed.length).toBeGreaterThan(0);
        expect(read.entries).toEqual([
          { id: result?.logId, tags: plan.tags, eventId: event.id, at: NOW, records: pushed },
        ]);
        expect(read.lastId).toBe(result?.logId);

        // Exactly one message on the events channel, naming the same entry.
        const messages = await listener.settle();
        expect(messages).toHaveLength(1);
        expect(JSON.parse(messages[0] ?? "null")).toEqual({
          id: result?.logId,
          event: event.id,
          tags: plan.tags.join(" "),
        });
      },
    );
  });

  describe("derived records and aggregate responses", () => {
    it("a booking drops its stats, its order book and the aggregates indexed under its tags", async () => {
      const { keys, applier } = await setup("derived");
      const factory = new EventFactory();
      const { change, raw } = factory.bookingCreated();
      const gpu = change.gpu;
      const statsKey = keys.marketStats(gpu.region, gpu.gpuType);
      const bookKey = keys.orderBook(gpu.gpuType, gpu.region);
      const otherStats = keys.marketStats(gpu.region === "us-east" ? "us-west" : "us-east", gpu.gpuType);
      await seedRecord(statsKey, record(1, '{"stats":1}', [`stats:${gpu.region}:${gpu.gpuType}`]));
      await seedRecord(bookKey, record(1, '{"book":1}', [`orderbook:${gpu.gpuType}:${gpu.region}`]));
      await seedRecord(otherStats, record(1, '{"stats":"other"}'));
      const listingTag = `gpus:${gpu.region}:*`;
      const firstListing = await seedIndexed(keys, listingTag, "listing-a");
      const secondListing = await seedIndexed(keys, listingTag, "listing-b");
      const everything = await seedIndexed(keys, "gpus:*:*", "listing-all");
      const bookList = await seedIndexed(keys, `orderbooks:${gpu.gpuType}`, "books");
      const otherType = await seedIndexed(keys, "gpus:*:NO-SUCH-TYPE", "other-type");

      const [result] = await applier.apply([parsed(raw)]);

      expect(result?.status).toBe("applied");
      for (const key of [statsKey, bookKey, firstListing, secondListing, everything, bookList]) {
        expect(Number(await redis.exists(key)), key).toBe(0);
      }
      for (const tag of [listingTag, "gpus:*:*", `orderbooks:${gpu.gpuType}`]) {
        expect(Number(await redis.exists(keys.tagIndex(tag))), tag).toBe(0);
      }
      expect((await readHash(redis, otherStats))?.b).toBe('{"stats":"other"}');
      expect((await readHash(redis, otherType))?.b).toBe('{"seed":"other-type"}');
      expect(Number(await redis.exists(keys.tagIndex("gpus:*:NO-SUCH-TYPE")))).toBe(1);
      expect(JSON.parse((await readHash(redis, keys.gpu(gpu.gpuId)))?.b ?? "{}")).toEqual(gpu);
    });

    it("cache.invalidate deletes the named keys and tag indexes, writes nothing, and logs its tags", async () => {
      const { keys, applier, listener } = await setup("manual");
      const factory = new EventFactory();
      await seedRecord(keys.gpu("gpu-00001"), record(3, '{"gpu":1}'));
      await seedRecord(keys.gpu("gpu-00002"), record(3, '{"gpu":2}'));
      const member = await seedIndexed(keys, "gpus:*:*", "all");
      const { raw } = factory.cacheInvalidate({
        tags: ["gpus:*:*", "custom:tag"],
        paths: ["/v1/gpus*"],
        keys: ["gpu:gpu-00001"],
      });

      const [result] = await applier.apply([parsed(raw)]);

      expect(result?.status).toBe("applied");
      expect(result?.plan.paths).toEqual(["/v1/gpus*"]);
      expect(Number(await redis.exists(keys.gpu("gpu-00001")))).toBe(0);
      expect(Number(await redis.exists(member))).toBe(0);
      expect(Number(await redis.exists(keys.tagIndex("gpus:*:*")))).toBe(0);
      expect((await readHash(redis, keys.gpu("gpu-00002")))?.v).toBe("3");
      expect((await logEntries(keys)).map((entry) => entry.tags)).toEqual([["gpus:*:*", "custom:tag"]]);
      expect(await listener.settle()).toHaveLength(1);
    });
  });

  describe("ordering by version", () => {
    it("an older version after a newer one is stale: state stays, no second log entry or message", async () => {
      const { keys, applier, listener } = await setup("out-of-order");
      const factory = new EventFactory();
      const gpuId = factory.availableGpuId();
      const v2 = factory.gpuStatusChanged(gpuId, "maintenance");
      const v3 = factory.gpuStatusChanged(gpuId, "offline");
      expect([v2.change.gpu.version, v3.change.gpu.version]).toEqual([2, 3]);

      const [newer] = await applier.apply([parsed(v3.raw)]);
      expect(newer?.status).toBe("applied");
      const written = await readHash(redis, keys.gpu(gpuId));
      const [older] = await applier.apply([parsed(v2.raw)]);

      expect(older?.status).toBe("stale");
      expect(older?.purged).toBe(true);
      expect(older?.logId).toBeUndefined();
      expect(await readHash(redis, keys.gpu(gpuId))).toEqual(written);
      expect(JSON.parse(written?.b ?? "{}")).toMatchObject({ status: "offline", version: 3 });
      expect(await logLength(keys)).toBe(1);
      expect(await listener.settle()).toHaveLength(1);

      // The stale event is remembered: its re-delivery is a duplicate with nothing owed.
      const [again] = await applier.apply([parsed(v2.raw)]);
      expect(again?.status).toBe("duplicate");
      expect(again?.purged).toBe(true);
    });

    it("an equal version under a new id is stale too", async () => {
      const { keys, applier } = await setup("equal-version");
      const factory = new EventFactory();
      const { raw } = factory.gpuStatusChanged();
      await applier.apply([parsed(raw)]);
      const gpu = raw.data.gpu as Gpu;
      const twin: RawEvent = {
        ...raw,
        id: `${raw.id}-twin`,
        data: { gpu: { ...gpu, status: "maintenance" } },
      };

      const [result] = await applier.apply([parsed(twin)]);

      expect(result?.status).toBe("stale");
      expect(JSON.parse((await readHash(redis, keys.gpu(gpu.gpuId)))?.b ?? "{}")).toMatchObject({
        status: "offline",
      });
      expect(await logLength(keys)).toBe(1);
    });

    it("orders each entity on its own version: a stale price does not block a newer GPU event", async () => {
      const { keys, applier } = await setup("per-entity");
      const factory = new EventFactory();
      const first = factory.pricingUpdated(0.1);
      const second = factory.pricingUpdated(0.1);
      const gpuId = (first.raw.data.gpus as Gpu[]).find((gpu) => gpu.status !== "maintenance")?.gpuId ?? "";
      const status = factory.gpuStatusChanged(gpuId, "maintenance");

      const results = await applier.apply([second.raw, first.raw, status.raw].map(parsed));

      expect(results.map((result) => result.status)).toEqual(["applied", "stale", "applied"]);
      expect(
        (await readHash(redis, keys.price(second.change.price.gpuType, second.change.price.region)))?.v,
      ).toBe(String(second.change.price.version));
      expect(JSON.parse((await readHash(redis, keys.gpu(gpuId)))?.b ?? "{}")).toEqual(status.change.gpu);
    });
  });

  describe("tag versions", () => {
    const version = async (keys: Keyspace, tag: string) => {
      const value = await redis.get(keys.tagVersion(tag));
      return value === null ? undefined : String(value);
    };

    it("each tag holds the log id of the newest event naming it; stale and duplicate events move none", async () => {
      const { keys, applier } = await setup("tag-versions");
      const factory = new EventFactory();
      const gpuId = factory.availableGpuId();
      const v2 = factory.gpuStatusChanged(gpuId, "maintenance");
      const v3 = factory.gpuStatusChanged(gpuId, "offline");
      const plan = planEvent(parsed(v3.raw), keys, NOW, DEFAULT_DATA_CLASS_POLICIES);
      const operator = parsed(factory.cacheInvalidate({ tags: ["custom:only", "gpus:*:*"] }).raw);
      expect(plan.tags).toContain("gpus:*:*");

      const [first] = await applier.apply([parsed(v3.raw)]);
      for (const tag of plan.tags) expect(await version(keys, tag), tag).toBe(first?.logId);

      // A later event naming one of those tags moves that tag only, to its own entry.
      const [second] = await applier.apply([operator]);
      expect(second?.logId).not.toBe(first?.logId);
      expect(await version(keys, "gpus:*:*")).toBe(second?.logId);
      expect(await version(keys, "custom:only")).toBe(second?.logId);
      expect(await version(keys, `gpu:${gpuId}`)).toBe(first?.logId);

      const [stale] = await applier.apply([parsed(v2.raw)]);
      const [duplicate] = await applier.apply([operator]);
      expect([stale?.status, duplicate?.status]).toEqual(["stale", "duplicate"]);
      expect(await version(keys, "gpus:*:*")).toBe(second?.logId);
      expect(await version(keys, `gpu:${gpuId}`)).toBe(first?.logId);
      expect(await version(keys, "never:named")).toBeUndefined();
    });

    it("a tag-version key holding something else is replaced, not a failure", async () => {
      const { keys, applier } = await setup("tag-version-type");
      await lambda.redis.hset(keys.tagVersion("custom:odd"), { not: "a string" });
      const [result] = await applier.apply([
        parsed(new EventFactory().cacheInvalidate({ tags: ["custom:odd"] }).raw),
      ]);
      expect(result?.status).toBe("applied");
      expect(await version(keys, "custom:odd")).toBe(result?.logId);
    });
  });

  describe("dedupe", () => {
    it("a re-delivered id is a duplicate: nothing is written, logged or published again", async () => {
      const { keys, applier, clock, listener } = await setup("duplicate");
      const factory = new EventFactory();
      const { change, raw } = factory.bookingCreated();
      const event = parsed(raw);
      const gpuKey = keys.gpu(change.gpu.gpuId);

      const [first] = await applier.apply([event]);
      expect(first?.status).toBe("applied");
      const written = await readHash(redis, gpuKey);
      expect(written?.s).toBe(String(NOW));
      // Even where the record has since gone (expired, purged), a re-delivery writes nothing.
      await seedRecord(keys.orderBook(change.gpu.gpuType, change.gpu.region), record(1, '{"book":"new"}'));
      clock.ms += 5_000;

      const [second] = await applier.apply([event]);

      expect(second?.status).toBe("duplicate");
      expect(second?.purged).toBe(false);
      expect(second?.logId).toBeUndefined();
      expect(await readHash(redis, gpuKey)).toEqual(written);
      expect((await readHash(redis, keys.orderBook(change.gpu.gpuType, change.gpu.region)))?.b).toBe(
        '{"book":"new"}',
      );
      await lambda.redis.del(gpuKey);
      const [third] = await applier.apply([event]);
      expect(third?.status).toBe("duplicate");
      expect(Number(await redis.exists(gpuKey))).toBe(0);
      expect(await logLength(keys)).toBe(1);
      expect(await listener.settle()).toHaveLength(1);
    });

    it("purged stays false until markPurged; then a re-delivery reports purged", async () => {
      const { keys, applier } = await setup("purged");
      const factory = new EventFactory();
      const event = parsed(factory.orderBookUpdated().raw);
      const neverApplied = parsed(factory.gpuStatusChanged().raw);

      const [applied] = await applier.apply([event]);
      expect(applied?.purged).toBe(false);
      const [owed] = await applier.apply([event]);
      expect(owed).toMatchObject({ status: "duplicate", purged: false });

      await applier.markPurged([event, neverApplied]);

      const [done] = await applier.apply([event]);
      expect(done).toMatchObject({ status: "duplicate", purged: true, logId: undefined });
      expect(Number(await redis.pttl(keys.appliedEvent(event.id)))).toBeGreaterThan(
        APPLIED_EVENT_TTL_SECONDS * 1000 - 60_000,
      );
      // markPurged only marks what was applied: an unknown event is still applied in full later.
      expect(Number(await redis.exists(keys.appliedEvent(neverApplied.id)))).toBe(0);
      const [late] = await applier.apply([neverApplied]);
      expect(late).toMatchObject({ status: "applied", purged: false });
      await applier.markPurged([]);
      expect(await logLength(keys)).toBe(2);
    });
  });

  describe("fan-out records are guarded one by one", () => {
    it("pricing.updated does not overwrite a GPU Redis already holds at a newer or equal version", async () => {
      const { keys, applier } = await setup("fan-out-price");
      const factory = new EventFactory();
      const { change, raw } = factory.pricingUpdated(0.3);
      const [sameVersion, newer, ...others] = change.gpus;
      if (!sameVersion || !newer || others.length === 0) throw new Error("need at least three repriced GPUs");
      await seedRecord(keys.gpu(newer.gpuId), record(newer.version + 5, '{"newer":true}'));
      await seedRecord(keys.gpu(sameVersion.gpuId), record(sameVersion.version, '{"same":true}'));

      const [result] = await applier.apply([parsed(raw)]);

      expect(result?.status).toBe("applied");
      expect(await readHash(redis, keys.gpu(newer.gpuId))).toMatchObject({
        v: String(newer.version + 5),
        b: '{"newer":true}',
      });
      expect((await readHash(redis, keys.gpu(sameVersion.gpuId)))?.b).toBe('{"same":true}');
      for (const gpu of others) {
        expect(JSON.parse((await readHash(redis, keys.gpu(gpu.gpuId)))?.b ?? "{}")).toEqual(gpu);
      }
      expect(
        JSON.parse((await readHash(redis, keys.price(change.price.gpuType, change.price.region)))?.b ?? ""),
      ).toEqual(change.price);
      // The skipped GPUs' tags are still logged: the listing they appear in did change.
      expect((await logEntries(keys))[0]?.tags).toContain(`gpu:${newer.gpuId}`);
    });

    it("provider.status_changed skips a GPU whose newer state arrived first", async () => {
      const { keys, applier } = await setup("fan-out-provider");
      const factory = new EventFactory();
      const { change, raw } = factory.providerStatusChanged("maintenance");
      const [ahead, ...rest] = change.gpus;
      if (!ahead || rest.length === 0) throw new Error("need a provider with several GPUs");
      // The booking system changes the GPU again; that event overtakes the provider's.
      const overtaking = factory.gpuStatusChanged(ahead.gpuId, "offline");
      const newer = overtaking.change.gpu;
      expect(newer.version).toBe(ahead.version + 1);
      await applier.apply([parsed(overtaking.raw)]);

      const [result] = await applier.apply([parsed(raw)]);

      expect(result?.status).toBe("applied");
      expect(JSON.parse((await readHash(redis, keys.gpu(ahead.gpuId)))?.b ?? "{}")).toEqual(newer);
      for (const gpu of rest) {
        expect(JSON.parse((await readHash(redis, keys.gpu(gpu.gpuId)))?.b ?? "{}")).toMatchObject({
          status: "maintenance",
          version: gpu.version,
        });
      }
      expect((await readHash(redis, keys.provider(change.provider.providerId)))?.v).toBe(
        String(change.provider.version),
      );
    });
  });

  describe("batches", () => {
    it("applies 50 events in order: one status per event, 50 log entries in the batch's order", async () => {
      const { keys, applier, listener } = await setup("batch");
      const factory = new EventFactory();
      const books = factory.store.listOrderBooks();
      const raws: RawEvent[] = [];
      for (let index = 0; index < 50; index++) {
        if (index % 3 === 0) raws.push(factory.orderBookUpdated(books[index / 3]).raw);
        else if (index % 3 === 1)
          raws.push(factory.gpuStatusChanged(factory.availableGpuId(), "offline").raw);
        else raws.push(factory.cacheInvalidate({ tags: [`custom:${index}`] }).raw);
      }
      const events = raws.map(parsed);

      const results = await applier.apply(events);

      expect(results.map((result) => result.event.id)).toEqual(events.map((event) => event.id));
      expect(results.map((result) => result.status)).toEqual(events.map(() => "applied"));
      const entries = await logEntries(keys);
      expect(entries.map((entry) => entry.eventId)).toEqual(events.map((event) => event.id));
      expect(entries.map((entry) => entry.id)).toEqual(results.map((result) => result.logId));
      expect(entries.map((entry) => entry.tags)).toEqual(results.map((result) => result.plan.tags));
      const messages = (await listener.settle()).map((message) => JSON.parse(message).event);
      expect(messages).toEqual(events.map((event) => event.id));

      // A second batch mixing re-deliveries, a stale version and new events: statuses in order.
      const gpuEvent = events[1] as Extract<MarketplaceEvent, { type: "gpu.status_changed" }>;
      const staleTwin = parsed({
        ...(raws[1] as RawEvent),
        id: "stale-twin",
        data: { gpu: { ...gpuEvent.data.gpu, status: "maintenance" } },
      });
      const fresh = parsed(factory.cacheInvalidate({ tags: ["custom:fresh"] }).raw);
      const mixed = await applier.apply([
        events[0] as MarketplaceEvent,
        staleTwin,
        fresh,
        events[49] as MarketplaceEvent,
      ]);
      expect(mixed.map((result) => result.status)).toEqual(["duplicate", "stale", "applied", "duplicate"]);
      expect(await logLength(keys)).toBe(51);
    });

    it("an empty batch does nothing", async () => {
      const { keys, applier } = await setup("empty");
      expect(await applier.apply([])).toEqual([]);
      expect((await snapshot(redis, keys.root)).size).toBe(0);
    });
  });

  describe("the Worker sees it", () => {
    it("L2 get decodes the new record; readLog from an earlier cursor returns the entry; fills lose the race", async () => {
      const { keys, applier, l2 } = await setup("worker");
      const factory = new EventFactory();
      const gpuId = factory.availableGpuId();
      const before = factory.store.getGpu(gpuId);
      if (!before) throw new Error("no GPU");
      await seedRecord(keys.gpu(gpuId), {
        version: before.version,
        body: JSON.stringify(before),
        tags: [`gpu:${gpuId}`],
        storedAt: 5,
      });
      await lambda.appendLog(keys, ["noise"]);
      const { lastId: cursor, epoch } = await l2.readLog(undefined, 100);
      const { change, raw } = factory.bookingCreated(gpuId);
      const event = parsed(raw);

      const [result] = await applier.apply([event]);

      expect(await l2.get(keys.gpu(gpuId))).toEqual({
        version: change.gpu.version,
        body: JSON.stringify(change.gpu),
        tags: [`gpu:${gpuId}`],
        storedAt: NOW,
        etag: await strongEtag(JSON.stringify(change.gpu)),
      });
      const read = await l2.readLog(cursor, 100, epoch);
      expect(read).toEqual({
        lastId: result?.logId,
        epoch,
        lost: false,
        reset: false,
        entries: [
          {
            id: result?.logId,
            tags: planEvent(event, keys, NOW, DEFAULT_DATA_CLASS_POLICIES).tags,
            eventId: event.id,
            at: NOW,
            records: [
              {
                tag: `gpu:${gpuId}`,
                etag: await strongEtag(JSON.stringify(change.gpu)),
                body: JSON.stringify(change.gpu),
              },
            ],
          },
        ],
      });
      // A fill from the origin that read the old GPU cannot put it back...
      const old = {
        version: before.version,
        body: JSON.stringify(before),
        tags: [`gpu:${gpuId}`],
        storedAt: 6,
      };
      expect(
        await l2.fill(keys.gpu(gpuId), old, {
          ttlSeconds: 60,
          sinceLogId: cursor,
          logEpoch: epoch,
          indexed: false,
        }),
      ).toBe("older");
      // ...and an aggregate fill that started before the event loses to its log entry.
      const listing = { version: 0, body: "{}", tags: [`gpus:${change.gpu.region}:*`], storedAt: 6 };
      expect(
        await l2.fill(keys.response("/v1/gpus?region=x"), listing, {
          ttlSeconds: 60,
          sinceLogId: cursor,
          logEpoch: epoch,
          indexed: true,
        }),
      ).toBe("raced");
    });
  });

  describe("all or nothing", () => {
    type Poison = (keys: Keyspace, raw: RawEvent) => Promise<string>;
    const poisonLastGpu: Poison = async (keys, raw) => {
      const gpus = raw.data.gpus as Gpu[];
      const key = keys.gpu(gpus[gpus.length - 1]?.gpuId ?? "");
      await lambda.redis.set(key, "not a hash");
      return key;
    };
    const cases: Array<[string, (factory: EventFactory) => RawEvent, Poison]> = [
      [
        "pricing.updated, its last GPU's key a string",
        (factory) => factory.pricingUpdated(0.2).raw,
        poisonLastGpu,
      ],
      [
        "provider.status_changed, its last GPU's key a string",
        (factory) => factory.providerStatusChanged("offline").raw,
        poisonLastGpu,
      ],
      [
        "booking.created, a tag index a string",
        (factory) => factory.bookingCreated().raw,
        async (keys) => {
          const key = keys.tagIndex("gpus:*:*");
          await lambda.redis.set(key, "not a set");
          return key;
        },
      ],
      [
        "orderbook.updated, the invalidation log a hash",
        (factory) => factory.orderBookUpdated().raw,
        async (keys) => {
          await lambda.redis.del(keys.invalidationLog);
          await lambda.redis.hset(keys.invalidationLog, { not: "a stream" });
          return keys.invalidationLog;
        },
      ],
    ];

    it.each(cases)(
      "%s: the apply rejects and leaves nothing; a retry then applies it in full",
      async (_name, build, poison) => {
        const { keys, applier, listener } = await setup("atomic");
        const factory = new EventFactory();
        const raw = build(factory);
        const event = parsed(raw);
        const plan = planEvent(event, keys, NOW, DEFAULT_DATA_CLASS_POLICIES);
        // Something for every step to change: derived records, indexed aggregates, the log.
        for (const key of plan.deletes) await seedRecord(key, record(1, '{"derived":true}'));
        for (const tag of plan.tags.slice(0, 2)) await seedIndexed(keys, tag, tag.replace(/[^a-z0-9]/gi, ""));
        await lambda.appendLog(keys, ["noise"]);
        const poisoned = await poison(keys, raw);
        const before = await snapshot(redis, keys.root);

        await expect(applier.apply([event])).rejects.toThrow(/WRONGTYPE/);

        expect(await snapshot(redis, keys.root)).toEqual(before);
        expect(Number(await redis.exists(keys.appliedEvent(event.id)))).toBe(0);
        expect(await listener.settle()).toEqual([]);

        // Once the key is repaired, the retry finishes the whole step: not 'stale', not half done.
        await lambda.redis.del(poisoned);
        const [retry] = await applier.apply([event]);
        expect(retry).toMatchObject({ status: "applied", purged: false });
        for (const write of plan.writes)
          expect((await readHash(redis, write.key))?.v).toBe(String(write.record.version));
        for (const key of plan.deletes) expect(Number(await redis.exists(key))).toBe(0);
        expect((await logEntries(keys)).map((entry) => entry.eventId)).toContain(event.id);
        expect(await listener.settle()).toHaveLength(1);
      },
    );

    it("in a batch, a failing event rejects the call but its neighbours apply; the retry completes it", async () => {
      const { keys, applier } = await setup("atomic-batch");
      const factory = new EventFactory();
      const good = parsed(factory.orderBookUpdated().raw);
      const pricing = factory.pricingUpdated(0.2).raw;
      const bad = parsed(pricing);
      const later = parsed(factory.cacheInvalidate({ tags: ["custom:later"] }).raw);
      const poisoned = await poisonLastGpu(keys, pricing);

      await expect(applier.apply([good, bad, later])).rejects.toThrow(/WRONGTYPE/);

      expect((await logEntries(keys)).map((entry) => entry.eventId)).toEqual([good.id, later.id]);
      expect(Number(await redis.exists(keys.appliedEvent(bad.id)))).toBe(0);
      const price = bad.type === "pricing.updated" ? bad.data.price : undefined;
      expect(Number(await redis.exists(keys.price(price?.gpuType ?? "", price?.region ?? "")))).toBe(0);

      await lambda.redis.del(poisoned);
      const retried = await applier.apply([good, bad, later]);
      expect(retried.map((result) => [result.status, result.purged])).toEqual([
        ["duplicate", false],
        ["applied", false],
        ["duplicate", false],
      ]);
      expect((await logEntries(keys)).map((entry) => entry.eventId)).toEqual([good.id, later.id, bad.id]);
    });
  });
});
