/**
 * What each event changes (docs/architecture.md "Event contract", Effects), in one place:
 * the records written through, the derived records dropped, and the tags every
 * tier evicts. The Redis step and the purges both work from this plan.
 *
 * Derived views (market stats, order books, listings) are dropped rather than
 * recomputed here: the booking system is their source of truth and sends
 * `market.stats_updated` / `orderbook.updated` when it has them; until then the edge
 * refills them from the origin on the next read.
 */
import type { DataClassName, DataClassPolicies } from "../../core/data-classes";
import type { Gpu } from "../../core/domain";
import type { MarketplaceEvent } from "../../core/events";
import { collectionViewsOf, type Keyspace } from "../../core/keys";
import type { L2Record } from "../../core/read-model";
import { gpuViewArgument } from "../../core/redis/listing-views";
import { orderBookTagsFor, priceTagsFor, statsTagsFor, tags, tagsForGpuChange } from "../../core/tags";

export interface RecordWrite {
  readonly key: string;
  readonly record: L2Record;
  readonly ttlSeconds: number;
  /** The entity's own tag: the log entry may carry the record under it (lambdas/events/apply.ts). */
  readonly tag: string;
  /** A GPU's state for the listing views (core/redis/listing-views.ts); absent for other records. */
  readonly view?: string;
  /** The collection views the record is listed in (prices, stats, order books of a type). */
  readonly collections?: readonly string[];
}

export interface EventPlan {
  /** The record whose stored version decides whether the event is stale; undefined for manual purges. */
  readonly versionKey: string | undefined;
  /** Written only where Redis holds an older version (or nothing). */
  readonly writes: readonly RecordWrite[];
  /** Derived records the change makes wrong. */
  readonly deletes: readonly string[];
  /** Every tag the change makes stale: the log entry, L1, the tag indexes of aggregate responses, Cloudflare. */
  readonly tags: readonly string[];
  /** Extra CloudFront paths named by an operator (cache.invalidate). */
  readonly paths: readonly string[];
}

/** Builds the write-through of one entity record: its own tag, its data class's L2 TTL. */
type RecordWriter = (
  key: string,
  entity: { readonly version: number },
  tag: string,
  dataClass: DataClassName,
) => RecordWrite;

function recordWriter(now: number, policies: DataClassPolicies): RecordWriter {
  return (key, entity, tag, dataClass) => ({
    key,
    record: { version: entity.version, body: JSON.stringify(entity), tags: [tag], storedAt: now },
    ttlSeconds: policies[dataClass].l2TtlSeconds,
    tag,
  });
}

/** A GPU's change: its record (indexed in the listing views), and the stats of its region and type (derived). */
function gpuEffects(keys: Keyspace, gpus: readonly Gpu[], write: RecordWriter) {
  return {
    writes: gpus.map((gpu) => ({
      ...write(keys.gpu(gpu.gpuId), gpu, tags.gpu(gpu.gpuId), "gpu"),
      view: gpuViewArgument(gpu),
    })),
    deletes: gpus.map((gpu) => keys.marketStats(gpu.region, gpu.gpuType)),
    tags: gpus.flatMap((gpu) => tagsForGpuChange(gpu)),
  };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/**
 * Each written record lives in Redis for its data class's `l2TtlSeconds`: the same
 * policies (CACHE_POLICIES included) the Worker fills with, so a record expires alike
 * whichever side wrote it.
 */
export function planEvent(
  event: MarketplaceEvent,
  keys: Keyspace,
  now: number,
  policies: DataClassPolicies,
): EventPlan {
  const plan = (
    versionKey: string | undefined,
    parts: Omit<EventPlan, "versionKey" | "paths">,
    paths: string[] = [],
  ) => ({
    versionKey,
    writes: parts.writes,
    deletes: unique(parts.deletes),
    tags: unique(parts.tags),
    paths,
  });
  const write = recordWriter(now, policies);

  switch (event.type) {
    case "gpu.upserted":
    case "gpu.status_changed":
      return plan(keys.gpu(event.data.gpu.gpuId), gpuEffects(keys, [event.data.gpu], write));

    case "booking.created":
    case "booking.cancelled": {
      const { gpu } = event.data;
      const effects = gpuEffects(keys, [gpu], write);
      return plan(keys.gpu(gpu.gpuId), {
        writes: effects.writes,
        deletes: [...effects.deletes, keys.orderBook(gpu.gpuType, gpu.region)],
        tags: [...effects.tags, ...orderBookTagsFor(gpu.gpuType, gpu.region)],
      });
    }

    case "pricing.updated": {
      const { price, gpus } = event.data;
      const effects = gpuEffects(keys, gpus, write);
      const priceKey = keys.price(price.gpuType, price.region);
      return plan(priceKey, {
        writes: [
          {
            ...write(priceKey, price, tags.price(price.gpuType, price.region), "pricing"),
            collections: collectionViewsOf(keys, "prices", price.gpuType, price.region),
          },
          ...effects.writes,
        ],
        deletes: [...effects.deletes, keys.marketStats(price.region, price.gpuType)],
        tags: [
          ...priceTagsFor(price.gpuType, price.region),
          ...effects.tags,
          ...statsTagsFor(price.region, price.gpuType),
        ],
      });
    }

    case "provider.status_changed": {
      const { provider, gpus } = event.data;
      const effects = gpuEffects(keys, gpus, write);
      const providerKey = keys.provider(provider.providerId);
      return plan(providerKey, {
        writes: [
          write(providerKey, provider, tags.provider(provider.providerId), "provider"),
          ...effects.writes,
        ],
        deletes: effects.deletes,
        tags: [tags.provider(provider.providerId), ...effects.tags],
      });
    }

    // A derived view the booking system recomputed: its record, and the tags of every list it is in.
    case "market.stats_updated": {
      const { region, gpuType } = event.data.stats;
      const key = keys.marketStats(region, gpuType);
      const record = {
        ...write(key, event.data.stats, tags.marketStats(region, gpuType), "market-stats"),
        collections: collectionViewsOf(keys, "stats", region, gpuType),
      };
      return plan(key, { writes: [record], deletes: [], tags: statsTagsFor(region, gpuType) });
    }

    case "orderbook.updated": {
      const { gpuType, region } = event.data.orderBook;
      const key = keys.orderBook(gpuType, region);
      const record = {
        ...write(key, event.data.orderBook, tags.orderBook(gpuType, region), "order-book"),
        collections: collectionViewsOf(keys, "orderbooks", gpuType, region),
      };
      return plan(key, { writes: [record], deletes: [], tags: orderBookTagsFor(gpuType, region) });
    }

    case "cache.invalidate":
      return plan(
        undefined,
        {
          writes: [],
          deletes: event.data.keys.map((key) => keys.operatorKey(key)),
          tags: event.data.tags,
        },
        event.data.paths,
      );
  }
}
