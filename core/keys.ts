/**
 * Every Redis key the system uses is built here and nowhere else (docs/architecture.md "Redis
 * key namespace"): one configurable prefix plus a schema version, so two
 * deployments can share a database and a schema change can move to `v2:` without
 * reading old values.
 */
import { type CollectionKind, type ListingOrder, VIEW_ANY } from "./redis/listing-views";

export { type CollectionKind, LISTING_ORDERS, type ListingOrder, VIEW_ANY } from "./redis/listing-views";

export const KEY_SCHEMA_VERSION = "v1";

export const DEFAULT_KEY_PREFIX = "ec";

export interface Keyspace {
  /** `ec:v1:` — everything below starts with it. */
  readonly root: string;
  /** One GPU's record (entity: written through by events, filled from the origin on a miss). */
  gpu(gpuId: string): string;
  /** The price of one GPU type in one region (entity). */
  price(gpuType: string, region: string): string;
  /** One provider's record (entity). */
  provider(providerId: string): string;
  /** Market stats of one region and GPU type (entity). */
  marketStats(region: string, gpuType: string): string;
  /** The order book of one GPU type in one region (entity). */
  orderBook(gpuType: string, region: string): string;
  /** Reference data: `regions` or `gpu-types`. */
  reference(name: "regions" | "gpu-types"): string;
  /** A whole response of an aggregate route (listings, partial filters), by its normalised cache key. */
  response(cacheKey: string): string;
  /** The set of response keys that depend on a tag, so an event can drop them all. */
  tagIndex(tag: string): string;
  /**
   * The invalidation-log id of the newest event that named a tag (core/tag-versions.ts): the
   * Worker asks the origin for it on an L2 miss, so a CDN copy from before the event never answers.
   */
  tagVersion(tag: string): string;
  /**
   * A listing view (core/redis/listing-views.ts): the sorted set of the GPU record keys that
   * match one (region, type, status) filter, `*` where absent, in one order. Lua builds the same
   * key as `listingViewPrefix .. region .. ':' .. type .. ':' .. status .. ':' .. order`
   * (core/redis/listing-views.ts `listingViewKeyLua`), so the two spellings sit together here.
   */
  listingView(
    region: string | undefined,
    gpuType: string | undefined,
    status: string | undefined,
    order: ListingOrder,
  ): string;
  readonly listingViewPrefix: string;
  /**
   * A collection view (core/redis/listing-views.ts): the sorted set, all scores 0, of the record
   * keys a list route shows, so the list reads in key order. Its two filters are in the order of
   * the list's tag (core/tags.ts): prices by type then region, stats by region then type, order
   * books by type (the second always absent).
   */
  collectionView(kind: CollectionKind, first: string | undefined, second: string | undefined): string;
  /** GPU record key → the state the views hold it under (`region type status version`). */
  readonly viewMembers: string;
  /**
   * When the views were last warmed from the origin (ms since epoch). Absent: never, or Redis
   * lost them: the views do not answer until a warm completes.
   */
  readonly viewsWarmedAt: string;
  /** Held (SET NX PX) by the one warm running at a time. */
  readonly viewsWarmLock: string;
  /** The capped invalidation log (a stream) the Worker isolates read. */
  readonly invalidationLog: string;
  /**
   * The invalidation log's epoch: a random id set by the first read that finds none
   * (core/redis/read-log-script.ts). A Redis that lost its data, or a keyspace replaced under
   * the Worker, has another one (or none), so an isolate can tell its cursor is from another log.
   */
  readonly logEpoch: string;
  /** The pub/sub channel the same entries are published on, for long-lived subscribers. */
  readonly eventsChannel: string;
  /** Ids of events already applied (dedupe). */
  appliedEvent(eventId: string): string;
  /**
   * The token bucket every Lambda invocation spends Workers Cache purge calls from
   * (core/redis/token-bucket-script.ts): the limit is per account, so the bucket is shared.
   */
  readonly workersCachePurgeBucket: string;
  /**
   * A key an operator names below the root, as the builders above spell it minus the
   * root (`gpu:gpu-00001`): cache.invalidate deletes (core/events.ts limits its alphabet).
   */
  operatorKey(keyBelowRoot: string): string;
}

/**
 * What a key prefix may be: it starts keys and channel names, so no ':' (the separator)
 * and nothing a shell or a URL would need to quote. The one rule for the prefix: the
 * keyspace enforces it and every configuration reader (core/config/rules.ts) checks it.
 */
export const KEY_PREFIX_PATTERN = /^[a-z0-9][a-z0-9_-]*$/i;
/** The rule in words, for error messages. */
export const KEY_PREFIX_RULE = "letters, digits, '_' or '-' (starting with a letter or digit)";

export function createKeyspace(prefix: string = DEFAULT_KEY_PREFIX): Keyspace {
  if (!KEY_PREFIX_PATTERN.test(prefix)) {
    throw new TypeError(`key prefix must be ${KEY_PREFIX_RULE}, got '${prefix}'`);
  }
  const root = `${prefix}:${KEY_SCHEMA_VERSION}:`;
  return {
    root,
    gpu: (gpuId) => `${root}gpu:${gpuId}`,
    price: (gpuType, region) => `${root}price:${gpuType}:${region}`,
    provider: (providerId) => `${root}provider:${providerId}`,
    marketStats: (region, gpuType) => `${root}stats:${region}:${gpuType}`,
    orderBook: (gpuType, region) => `${root}orderbook:${gpuType}:${region}`,
    reference: (name) => `${root}ref:${name}`,
    response: (cacheKey) => `${root}resp:${cacheKey}`,
    tagIndex: (tag) => `${root}tagidx:${tag}`,
    tagVersion: (tag) => `${root}tagver:${tag}`,
    listingView: (region, gpuType, status, order) =>
      `${root}view:gpus:${[region ?? VIEW_ANY, gpuType ?? VIEW_ANY, status ?? VIEW_ANY, order].join(":")}`,
    listingViewPrefix: `${root}view:gpus:`,
    collectionView: (kind, first, second) => `${root}view:${kind}:${first ?? VIEW_ANY}:${second ?? VIEW_ANY}`,
    viewMembers: `${root}view:members`,
    viewsWarmedAt: `${root}view:warmed-at`,
    viewsWarmLock: `${root}view:warm-lock`,
    invalidationLog: `${root}log`,
    logEpoch: `${root}log-epoch`,
    eventsChannel: `${root}events`,
    appliedEvent: (eventId) => `${root}applied:${eventId}`,
    workersCachePurgeBucket: `${root}bucket:workers-cache-purge`,
    operatorKey: (keyBelowRoot) => `${root}${keyBelowRoot}`,
  };
}

/**
 * The collection views a record is listed in: by its first filter, by its second, by neither;
 * an order book by its type only (the one list route it has).
 */
export function collectionViewsOf(
  keys: Keyspace,
  kind: CollectionKind,
  first: string,
  second: string,
): string[] {
  if (kind === "orderbooks") return [keys.collectionView(kind, first, undefined)];
  return [
    keys.collectionView(kind, first, undefined),
    keys.collectionView(kind, undefined, second),
    keys.collectionView(kind, undefined, undefined),
  ];
}
