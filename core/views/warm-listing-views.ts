/**
 * Warming the listing views from the origin (core/redis/listing-views.ts): every GPU, page by
 * page in id order (`/v1/gpus?limit=500&after=<last id>`), into its record and its views, then
 * the views' warmed-at mark, without which they answer nothing. Run by `npm run warm`, and by
 * the Worker when a listing finds the views never warmed (or lost with Redis), or warmed longer
 * ago than their refresh period: the refresh is the safety net for a lost event, as a TTL is for
 * a cached copy.
 *
 * One warm at a time: a lock key held while it runs (it expires, so a warm that died frees it).
 * Pages are written by a script that keeps whatever newer version an event wrote meanwhile.
 * Runtime-neutral: Redis, the origin fetch and the clock are passed in.
 */
import type { Redis } from "@upstash/redis";
import type { DataClassName, DataClassPolicies } from "../data-classes";
import { strongEtag } from "../etag";
import { isIdentifier } from "../identifiers";
import { type CollectionKind, collectionViewsOf, type Keyspace } from "../keys";
import { encodeL2Record } from "../read-model";
import {
  gpuViewArgument,
  RELEASE_WARM_LOCK_SCRIPT,
  type ViewedGpu,
  WARM_COLLECTION_SCRIPT,
  WARM_PAGE_SCRIPT,
} from "../redis/listing-views";
import { recordArguments } from "../redis/record-hash";
import { tags } from "../tags";
import type { Clock } from "../time/clock";

/** The origin's largest listing page (its `limit` maximum). */
export const WARM_PAGE_SIZE = 500;

/** The origin's answer was not a page of GPUs, or it does not page: nothing more is written. */
export class ViewWarmError extends Error {
  override readonly name = "ViewWarmError";
}

export interface WarmListingViewsOptions {
  readonly redis: Redis;
  readonly keys: Keyspace;
  /** GETs a path of the origin's API (the Worker's own origin fetch, or a plain fetch). */
  readonly fetchOrigin: (path: string) => Promise<Response>;
  readonly clock: Clock;
  /** The records' TTLs come from their classes' `l2TtlSeconds`, as every writer's do. */
  readonly policies: DataClassPolicies;
  /** GPUs per page (default WARM_PAGE_SIZE, at most the origin's limit). */
  readonly pageSize?: number;
  /** At most this many pages; a fleet larger than that fails the warm (default 200: 100,000 GPUs). */
  readonly maxPages?: number;
  /** How long the lock is held at most (default 60 s). */
  readonly lockMs?: number;
  /** Added to every page's query, so a CDN in front of the origin cannot answer from an old copy. */
  readonly cacheBuster?: { readonly param: string };
}

export interface WarmReport {
  readonly outcome: "warmed" | "already-running";
  readonly pages: number;
  readonly gpus: number;
  /** Records the warm wrote (Redis held none or an older version). */
  readonly written: number;
  /** GPUs Redis held at a newer version than the origin's page: kept, and indexed as they are. */
  readonly newer: number;
  /** Price, stats and order-book records put into their collection views. */
  readonly collections?: number;
  readonly warmedAt?: number;
}

type PageGpu = ViewedGpu;

/** The fields the views index, checked: a page with anything else is refused whole. */
function pageGpus(body: unknown, path: string): PageGpu[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new ViewWarmError(`origin ${path}: no 'items' array`);
  return items.map((item, index) => {
    const gpu = item as Record<string, unknown>;
    // They become parts of Redis keys and tags: the identifier rule, as everywhere else.
    const text = (field: string) => typeof gpu[field] === "string" && isIdentifier(gpu[field] as string);
    const number = (field: string) => typeof gpu[field] === "number" && Number.isFinite(gpu[field]);
    const bad = [
      ...["gpuId", "region", "gpuType", "status"].filter((field) => !text(field)),
      ...["pricePerHour", "performanceScore", "version"].filter((field) => !number(field)),
    ];
    if (bad.length > 0) throw new ViewWarmError(`origin ${path}: items.${index}: bad ${bad.join(", ")}`);
    return gpu as unknown as PageGpu;
  });
}

function ttlOf(policies: DataClassPolicies, dataClass: DataClassName): string {
  return String(Math.max(1, Math.round(policies[dataClass].l2TtlSeconds * 1000)));
}

/** One kind of list the origin serves whole, and how each of its items becomes a record. */
interface CollectionSource {
  readonly path: string;
  readonly dataClass: DataClassName;
  readonly kind: CollectionKind;
  /** The record's key, its tag and the two filters it is listed under, from the item. */
  readonly place: (item: PairItem) => { key: string; tag: string; first: string; second: string };
}

interface PairItem {
  readonly gpuType: string;
  readonly region: string;
  readonly version: number;
}

function pairItems(body: unknown, path: string): PairItem[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new ViewWarmError(`origin ${path}: no 'items' array`);
  return items.map((item, index) => {
    const record = item as Record<string, unknown>;
    const ok =
      typeof record.gpuType === "string" &&
      isIdentifier(record.gpuType) &&
      typeof record.region === "string" &&
      isIdentifier(record.region) &&
      typeof record.version === "number" &&
      Number.isFinite(record.version);
    if (!ok) throw new ViewWarmError(`origin ${path}: items.${index}: bad gpuType, region or version`);
    return record as unknown as PairItem;
  });
}

/**
 * The price, stats and order-book lists, whole (the origin serves them unpaged: one record per
 * region and type), into their records and collection views; the order books type by type, from
 * the origin's GPU type list.
 */
async function warmCollections(options: WarmListingViewsOptions, buster: string): Promise<number> {
  const { keys, clock } = options;
  const at = (path: string) => (buster ? `${path}?${buster.slice(1)}` : path);
  const typesResponse = await options.fetchOrigin(at("/v1/gpu-types"));
  if (!typesResponse.ok) throw new ViewWarmError(`origin /v1/gpu-types: answered ${typesResponse.status}`);
  const types = (((await typesResponse.json()) as { items?: Array<{ gpuType?: unknown }> }).items ?? [])
    .map((type) => type.gpuType)
    .filter((gpuType): gpuType is string => typeof gpuType === "string" && isIdentifier(gpuType));
  const sources: CollectionSource[] = [
    {
      path: "/v1/pricing",
      dataClass: "pricing",
      kind: "prices",
      place: (item) => ({
        key: keys.price(item.gpuType, item.region),
        tag: tags.price(item.gpuType, item.region),
        first: item.gpuType,
        second: item.region,
      }),
    },
    {
      path: "/v1/market/stats",
      dataClass: "market-stats",
      kind: "stats",
      place: (item) => ({
        key: keys.marketStats(item.region, item.gpuType),
        tag: tags.marketStats(item.region, item.gpuType),
        first: item.region,
        second: item.gpuType,
      }),
    },
    ...types.map(
      (gpuType): CollectionSource => ({
        path: `/v1/orderbook/${gpuType}`,
        dataClass: "order-book",
        kind: "orderbooks",
        place: (item) => ({
          key: keys.orderBook(item.gpuType, item.region),
          tag: tags.orderBook(item.gpuType, item.region),
          first: item.gpuType,
          second: item.region,
        }),
      }),
    ),
  ];
  const script = options.redis.createScript<number>(WARM_COLLECTION_SCRIPT);
  let count = 0;
  for (const source of sources) {
    const response = await options.fetchOrigin(at(source.path));
    if (!response.ok) throw new ViewWarmError(`origin ${source.path}: answered ${response.status}`);
    const items = pairItems(await response.json(), source.path);
    if (items.length === 0) continue;
    const now = clock.now();
    const ttlMs = ttlOf(options.policies, source.dataClass);
    const args = [String(items.length)];
    for (const item of items) {
      const { key, tag, first, second } = source.place(item);
      const body = JSON.stringify(item);
      const record = {
        version: item.version,
        body,
        tags: [tag],
        storedAt: now,
        etag: await strongEtag(body),
      };
      args.push(
        key,
        ...recordArguments(encodeL2Record(record), ttlMs),
        collectionViewsOf(keys, source.kind, first, second).join(" "),
      );
    }
    await script.exec([], args);
    count += items.length;
  }
  return count;
}

export async function warmListingViews(options: WarmListingViewsOptions): Promise<WarmReport> {
  const { redis, keys, clock } = options;
  const maxPages = options.maxPages ?? 200;
  const pageSize = Math.min(options.pageSize ?? WARM_PAGE_SIZE, WARM_PAGE_SIZE);
  const lockToken = crypto.randomUUID();
  const locked = await redis.set(keys.viewsWarmLock, lockToken, { nx: true, px: options.lockMs ?? 60_000 });
  if (locked === null) return { outcome: "already-running", pages: 0, gpus: 0, written: 0, newer: 0 };
  const warmScript = redis.createScript<[number, number]>(WARM_PAGE_SCRIPT);
  const ttlMs = ttlOf(options.policies, "gpu");
  const buster = options.cacheBuster ? `&${options.cacheBuster.param}=warm-${clock.now()}` : "";
  let after: string | undefined;
  let pages = 0;
  let gpus = 0;
  let written = 0;
  let newer = 0;
  try {
    for (;;) {
      if (pages >= maxPages)
        throw new ViewWarmError(`more than ${maxPages} pages of ${pageSize} GPUs: raise maxPages`);
      const path = `/v1/gpus?limit=${pageSize}${after === undefined ? "" : `&after=${encodeURIComponent(after)}`}${buster}`;
      const response = await options.fetchOrigin(path);
      if (!response.ok) throw new ViewWarmError(`origin ${path}: answered ${response.status}`);
      const page = pageGpus(await response.json(), path);
      pages += 1;
      const first = page[0];
      // An origin that ignores `after` would hand the first page back forever.
      if (first && after !== undefined && first.gpuId <= after)
        throw new ViewWarmError(`origin ${path}: does not page by 'after' (got ${first.gpuId} again)`);
      if (page.length > 0) {
        const now = clock.now();
        const args = [keys.listingViewPrefix, keys.viewMembers, String(page.length)];
        for (const gpu of page) {
          const body = JSON.stringify(gpu);
          const record = {
            version: gpu.version,
            body,
            tags: [tags.gpu(gpu.gpuId)],
            storedAt: now,
            etag: await strongEtag(body),
          };
          args.push(
            keys.gpu(gpu.gpuId),
            ...recordArguments(encodeL2Record(record), ttlMs),
            gpuViewArgument(gpu),
          );
        }
        const [pageWritten, pageNewer] = await warmScript.exec([], args);
        written += Number(pageWritten);
        newer += Number(pageNewer);
        gpus += page.length;
      }
      if (page.length < pageSize) break;
      after = page[page.length - 1]?.gpuId;
    }
    const collections = await warmCollections(options, buster);
    const warmedAt = clock.now();
    await redis.set(keys.viewsWarmedAt, String(warmedAt));
    return { outcome: "warmed", pages, gpus, written, newer, collections, warmedAt };
  } finally {
    await redis.eval(RELEASE_WARM_LOCK_SCRIPT, [keys.viewsWarmLock], [lockToken]).catch(() => undefined);
  }
}
