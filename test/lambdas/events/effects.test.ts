/**
 * What each event changes (lambdas/events/effects.ts `planEvent`): the records written
 * through (keys, versions, bodies, tags, TTLs), the derived records dropped, and the
 * tags every tier evicts, checked against the tag rules of core/tags.ts and the records
 * the sample origin's mutations return. TTLs come from the data-class policies the event
 * Lambda is configured with (CACHE_POLICIES, as the Worker's).
 */
import { describe, expect, it } from "vitest";
import {
  type DataClassName,
  type DataClassPolicies,
  DEFAULT_DATA_CLASS_POLICIES,
} from "../../../core/data-classes";
import type { Gpu } from "../../../core/domain";
import { collectionViewsOf, createKeyspace } from "../../../core/keys";
import { gpuViewArgument } from "../../../core/redis/listing-views";
import { orderBookTagsFor, priceTagsFor, statsTagsFor, tags, tagsForGpuChange } from "../../../core/tags";
import { parseEventsConfig } from "../../../lambdas/events/config";
import { type EventPlan, planEvent } from "../../../lambdas/events/effects";
import { EventFactory, parsed } from "../../support/event-fixtures";

const keys = createKeyspace("plan");
const NOW = 1_800_000_000_000;
const policies = DEFAULT_DATA_CLASS_POLICIES;

const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];

function gpuWrite(gpu: Gpu) {
  return {
    key: keys.gpu(gpu.gpuId),
    record: { version: gpu.version, body: JSON.stringify(gpu), tags: [tags.gpu(gpu.gpuId)], storedAt: NOW },
    ttlSeconds: policies.gpu.l2TtlSeconds,
    tag: tags.gpu(gpu.gpuId),
    view: gpuViewArgument(gpu),
  };
}

/** The data class of each kind of record the Lambda writes, by the key's kind (core/keys.ts). */
const DATA_CLASS_OF_KIND: Readonly<Record<string, DataClassName>> = {
  gpu: "gpu",
  price: "pricing",
  provider: "provider",
  stats: "market-stats",
  orderbook: "order-book",
};

const kindOf = (key: string) => key.slice(keys.root.length).split(":")[0] ?? "";

/** The TTL a written key must get: its data class's. */
function ttlOfKey(key: string, from: DataClassPolicies): number {
  const dataClass = DATA_CLASS_OF_KIND[kindOf(key)];
  if (!dataClass) throw new Error(`no data class for ${key}`);
  return from[dataClass].l2TtlSeconds;
}

function expectNoDuplicates(plan: EventPlan): void {
  expect(new Set(plan.tags).size).toBe(plan.tags.length);
  expect(new Set(plan.deletes).size).toBe(plan.deletes.length);
  expect(new Set(plan.writes.map((write) => write.key)).size).toBe(plan.writes.length);
}

describe("planEvent", () => {
  it.each(["gpu.status_changed", "gpu.upserted"] as const)(
    "%s: writes the GPU, drops its stats, names its tags",
    (type) => {
      const factory = new EventFactory();
      const { change, raw } = type === "gpu.upserted" ? factory.gpuUpserted() : factory.gpuStatusChanged();
      const gpu = change.gpu;
      const plan = planEvent(parsed(raw), keys, NOW, policies);
      expect(plan).toEqual({
        versionKey: keys.gpu(gpu.gpuId),
        writes: [gpuWrite(gpu)],
        deletes: [keys.marketStats(gpu.region, gpu.gpuType)],
        tags: tagsForGpuChange(gpu),
        paths: [],
      });
      // The body is the record the origin serves for /v1/gpus/:gpuId, byte for byte.
      expect(plan.writes[0]?.record.body).toBe(JSON.stringify(factory.store.getGpu(gpu.gpuId)));
      expect(plan.tags).toEqual([
        `gpu:${gpu.gpuId}`,
        `gpus:${gpu.region}:${gpu.gpuType}`,
        `gpus:${gpu.region}:*`,
        `gpus:*:${gpu.gpuType}`,
        "gpus:*:*",
        `stats:${gpu.region}:${gpu.gpuType}`,
        `stats-list:${gpu.region}:*`,
        `stats-list:*:${gpu.gpuType}`,
        "stats-list:*:*",
      ]);
    },
  );

  it("gpu.status_changed: the written body carries the new status and version", () => {
    const factory = new EventFactory();
    const gpuId = factory.availableGpuId();
    const before = factory.store.getGpu(gpuId);
    const { raw } = factory.gpuStatusChanged(gpuId, "maintenance");
    const [write] = planEvent(parsed(raw), keys, NOW, policies).writes;
    expect(JSON.parse(write?.record.body ?? "{}")).toMatchObject({
      gpuId,
      status: "maintenance",
      version: (before?.version ?? 0) + 1,
    });
    expect(write?.record.version).toBe((before?.version ?? 0) + 1);
  });

  it.each(["booking.created", "booking.cancelled"] as const)(
    "%s: writes the GPU, drops its stats and the order book, names GPU and order-book tags",
    (type) => {
      const factory = new EventFactory();
      const created = factory.bookingCreated();
      const { change, raw } =
        type === "booking.created" ? created : factory.bookingCancelled(created.change.booking.bookingId);
      const gpu = change.gpu;
      expect(gpu.status).toBe(type === "booking.created" ? "busy" : "available");
      const plan = planEvent(parsed(raw), keys, NOW, policies);
      expect(plan).toEqual({
        versionKey: keys.gpu(gpu.gpuId),
        writes: [gpuWrite(gpu)],
        deletes: [keys.marketStats(gpu.region, gpu.gpuType), keys.orderBook(gpu.gpuType, gpu.region)],
        tags: [...tagsForGpuChange(gpu), ...orderBookTagsFor(gpu.gpuType, gpu.region)],
        paths: [],
      });
      // Nothing about the booking itself (private data) is written to a shared tier.
      expect(plan.writes.map((write) => write.record.body).join("")).not.toContain(change.booking.userId);
    },
  );

  it("pricing.updated: writes the price and every repriced GPU, drops the pair's stats once", () => {
    const factory = new EventFactory();
    const { change, raw } = factory.pricingUpdated(0.5);
    const { price, gpus } = change;
    expect(gpus.length).toBeGreaterThan(1);
    const plan = planEvent(parsed(raw), keys, NOW, policies);
    expect(plan).toEqual({
      versionKey: keys.price(price.gpuType, price.region),
      writes: [
        {
          key: keys.price(price.gpuType, price.region),
          record: {
            version: price.version,
            body: JSON.stringify(price),
            tags: [tags.price(price.gpuType, price.region)],
            storedAt: NOW,
          },
          ttlSeconds: policies.pricing.l2TtlSeconds,
          tag: tags.price(price.gpuType, price.region),
          collections: collectionViewsOf(keys, "prices", price.gpuType, price.region),
        },
        ...gpus.map(gpuWrite),
      ],
      deletes: [keys.marketStats(price.region, price.gpuType)],
      tags: unique([
        ...priceTagsFor(price.gpuType, price.region),
        ...gpus.flatMap(tagsForGpuChange),
        ...statsTagsFor(price.region, price.gpuType),
      ]),
      paths: [],
    });
    expectNoDuplicates(plan);
    for (const gpu of gpus) expect(gpu.pricePerHour).toBe(price.pricePerHour);
    for (const gpu of gpus) expect(plan.tags).toContain(tags.gpu(gpu.gpuId));
    expect(plan.tags).toContain(tags.priceList(undefined, undefined));
    expect(plan.tags).toContain(tags.listing(price.region, price.gpuType));
  });

  it("pricing.updated without repriced GPUs still names the price's and the stats' tags", () => {
    const factory = new EventFactory();
    const { raw } = factory.pricingUpdated(0.5);
    const noGpus = parsed({ ...raw, data: { price: raw.data.price } });
    const plan = planEvent(noGpus, keys, NOW, policies);
    expect(plan.writes.map((write) => write.key)).toEqual([
      keys.price(
        (raw.data.price as { gpuType: string }).gpuType,
        (raw.data.price as { region: string }).region,
      ),
    ]);
    const price = raw.data.price as { gpuType: string; region: string };
    expect(plan.tags).toEqual([
      ...priceTagsFor(price.gpuType, price.region),
      ...statsTagsFor(price.region, price.gpuType),
    ]);
  });

  it("provider.status_changed to maintenance: fans out to every GPU of the provider", () => {
    const factory = new EventFactory();
    const provider = factory.store
      .listProviders()
      .find(
        (candidate) =>
          candidate.status === "active" &&
          candidate.gpuIds.length >= 5 &&
          candidate.gpuIds.every((id) => factory.store.getGpu(id)?.status !== "maintenance"),
      );
    if (!provider) throw new Error("the generated marketplace has no suitable provider");
    const { change, raw } = factory.providerStatusChanged("maintenance", provider.providerId);
    expect(change.gpus.map((gpu) => gpu.gpuId).sort()).toEqual([...provider.gpuIds].sort());
    const plan = planEvent(parsed(raw), keys, NOW, policies);

    expect(plan.versionKey).toBe(keys.provider(provider.providerId));
    expect(plan.writes[0]).toEqual({
      key: keys.provider(provider.providerId),
      record: {
        version: change.provider.version,
        body: JSON.stringify(change.provider),
        tags: [tags.provider(provider.providerId)],
        storedAt: NOW,
      },
      ttlSeconds: policies.provider.l2TtlSeconds,
      tag: tags.provider(provider.providerId),
    });
    expect(plan.writes.slice(1)).toEqual(change.gpus.map(gpuWrite));
    for (const write of plan.writes.slice(1)) {
      expect(JSON.parse(write.record.body)).toMatchObject({ status: "maintenance" });
    }
    expect([...plan.deletes].sort()).toEqual(
      unique(change.gpus.map((gpu) => keys.marketStats(gpu.region, gpu.gpuType))).sort(),
    );
    expect(plan.tags).toEqual(
      unique([tags.provider(provider.providerId), ...change.gpus.flatMap(tagsForGpuChange)]),
    );
    for (const gpuId of provider.gpuIds) expect(plan.tags).toContain(tags.gpu(gpuId));
    expectNoDuplicates(plan);
  });

  it("market.stats_updated: writes the stats record, drops nothing", () => {
    const factory = new EventFactory();
    const { stats, raw } = factory.marketStatsUpdated();
    expect(planEvent(parsed(raw), keys, NOW, policies)).toEqual({
      versionKey: keys.marketStats(stats.region, stats.gpuType),
      writes: [
        {
          key: keys.marketStats(stats.region, stats.gpuType),
          record: {
            version: stats.version,
            body: JSON.stringify(stats),
            tags: [tags.marketStats(stats.region, stats.gpuType)],
            storedAt: NOW,
          },
          ttlSeconds: policies["market-stats"].l2TtlSeconds,
          tag: tags.marketStats(stats.region, stats.gpuType),
          collections: collectionViewsOf(keys, "stats", stats.region, stats.gpuType),
        },
      ],
      deletes: [],
      tags: statsTagsFor(stats.region, stats.gpuType),
      paths: [],
    });
  });

  it("orderbook.updated: writes the order book, drops nothing", () => {
    const factory = new EventFactory();
    const { change, raw } = factory.orderBookUpdated();
    const book = change.orderBook;
    expect(planEvent(parsed(raw), keys, NOW, policies)).toEqual({
      versionKey: keys.orderBook(book.gpuType, book.region),
      writes: [
        {
          key: keys.orderBook(book.gpuType, book.region),
          record: {
            version: book.version,
            body: JSON.stringify(book),
            tags: [tags.orderBook(book.gpuType, book.region)],
            storedAt: NOW,
          },
          ttlSeconds: policies["order-book"].l2TtlSeconds,
          tag: tags.orderBook(book.gpuType, book.region),
          collections: [keys.collectionView("orderbooks", book.gpuType, undefined)],
        },
      ],
      deletes: [],
      tags: orderBookTagsFor(book.gpuType, book.region),
      paths: [],
    });
  });

  it("cache.invalidate: no version check, no writes; keys below the prefix, tags and paths as named", () => {
    const factory = new EventFactory();
    const { raw } = factory.cacheInvalidate({
      tags: ["gpu:gpu-00001", "gpus:*:*", "gpu:gpu-00001"],
      paths: ["/v1/gpus*", "/v1/pricing"],
      keys: ["gpu:gpu-00001", "stats:us-east:RTX-4090"],
    });
    expect(planEvent(parsed(raw), keys, NOW, policies)).toEqual({
      versionKey: undefined,
      writes: [],
      deletes: [`${keys.root}gpu:gpu-00001`, `${keys.root}stats:us-east:RTX-4090`],
      tags: ["gpu:gpu-00001", "gpus:*:*"],
      paths: ["/v1/gpus*", "/v1/pricing"],
    });
    // The operator names keys as the keyspace builds them, minus the prefix.
    expect(keys.gpu("gpu-00001")).toBe(`${keys.root}gpu:gpu-00001`);
    expect(keys.marketStats("us-east", "RTX-4090")).toBe(`${keys.root}stats:us-east:RTX-4090`);
  });

  it("stamps every written record with `now` and keeps the data classes' TTLs", () => {
    const factory = new EventFactory();
    const events = Object.values(factory.oneOfEach()).map(parsed);
    const writes = events.flatMap((event) => planEvent(event, keys, 42, policies).writes);
    expect(writes.length).toBeGreaterThan(8);
    for (const write of writes) {
      expect(write.record.storedAt).toBe(42);
      expect(write.key.startsWith(keys.root)).toBe(true);
      expect(JSON.parse(write.record.body).version).toBe(write.record.version);
    }
    expect({
      gpu: policies.gpu.l2TtlSeconds,
      pricing: policies.pricing.l2TtlSeconds,
      provider: policies.provider.l2TtlSeconds,
      "market-stats": policies["market-stats"].l2TtlSeconds,
      "order-book": policies["order-book"].l2TtlSeconds,
    }).toEqual({
      gpu: 3600,
      pricing: 900,
      provider: 900,
      "market-stats": 300,
      "order-book": 60,
    });
    for (const write of writes) expect(write.ttlSeconds).toBe(ttlOfKey(write.key, policies));
  });

  it("takes each record's TTL from its data class in CACHE_POLICIES, as the Worker's fills do", () => {
    // Parsed as the Lambda's cold start parses it: the override must reach the write-through.
    const { policies: overridden } = parseEventsConfig({
      UPSTASH_REDIS_REST_URL: "https://eu1-fine-cat.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "token",
      WEBHOOK_SECRETS: "whsec_MDEyMzQ1Njc4OWFiY2RlZg==",
      CACHE_POLICIES: JSON.stringify({
        gpu: { l2TtlSeconds: 120 },
        pricing: { l2TtlSeconds: 121 },
        provider: { l2TtlSeconds: 122 },
        "market-stats": { l2TtlSeconds: 123 },
        "order-book": { l2TtlSeconds: 124 },
      }),
    });
    const events = Object.values(new EventFactory().oneOfEach()).map(parsed);
    const writes = events.flatMap((event) => planEvent(event, keys, NOW, overridden).writes);
    const ttlByKind = Object.fromEntries(writes.map((write) => [kindOf(write.key), write.ttlSeconds]));
    expect(ttlByKind).toEqual({ gpu: 120, price: 121, provider: 122, stats: 123, orderbook: 124 });
    for (const write of writes) expect(write.ttlSeconds).toBe(ttlOfKey(write.key, overridden));
  });
});
